# Shared settings of up.sh, down.sh and the e2e suite (sourced, sh).
# Everything the cluster makes lives under $STATE, except what the kernel
# keeps elsewhere (cgroups under $CGROUP_ROOT, the bridge $BRIDGE, one nat
# rule tagged $TAG); down.sh removes all of it.
STATE=${PROFILED_CLUSTER_STATE:-/var/tmp/profiled-cluster}
NODE=${PROFILED_CLUSTER_NODE:-profiled-e2e}
CGROUP_ROOT=/profiled-cluster
TAG=profiled-cluster
# The pods' bridge: no uplink, only the host end and the pods' veths. The
# API server listens on its address (not on 0.0.0.0), so pods reach it and
# nothing off this machine can.
BRIDGE=profiled0
POD_SUBNET=10.244.0.0/24
GW=10.244.0.1
SERVICE_RANGE=10.0.0.0/24
SERVICE_IP=10.0.0.1
API_PORT=16443
ETCD_PORT=23790
ETCD_PEER_PORT=23800
REGISTRY=127.0.0.1:15000
KUBELET_PORT=10250
KUBELET_HEALTHZ_PORT=10248
KCM_PORT=10257
SCHED_PORT=10259
CGROUP_V1=/sys/fs/cgroup
