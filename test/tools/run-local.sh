#!/bin/sh
# `make run`: the agent in local mode on the example profiles, touching
# nothing outside ./run of the repository.
#   run/profiles/        the profiles it watches (a copy of deploy/profiles;
#                        edit, add or remove files while it runs)
#   run/kubelet-seccomp/ stands in for /var/lib/kubelet/seccomp
#   run/state/           stands in for /var/lib/profiled
set -eu
bin=${1:-build/profiled}
mkdir -p run
if [ ! -d run/profiles ]; then
	mkdir run/profiles
	cp deploy/profiles/* run/profiles/
fi
cat <<MSG
profiled runs in local mode (no API server): it publishes seccomp profiles
into run/kubelet-seccomp/profiled/, compiles the AppArmor ones without
loading them, and logs the node labels it would set.
Edit run/profiles/ in another terminal to watch it react; Ctrl-C stops it.

MSG
# --apparmor-validate-only: AppArmor files are compiled and checked, never
# loaded into this machine's kernel.
exec "$bin" run --profiles run/profiles --seccomp-root run/kubelet-seccomp \
	--state-dir run/state --node-name "$(hostname)" --resync-interval 1m \
	--apparmor-validate-only
