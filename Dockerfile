# syntax=docker/dockerfile:1
# profiled: a build stage with the toolchain, a runtime image without it.
#
#   docker build -t profiled .
#
# The runtime image is one layer made from scratch: profiled, the shared
# libraries it and the AppArmor parser load, the parser with its
# configuration, abi, abstractions and tunables (profiles include them), the
# CA certificates and the package database of exactly that
# (deploy/image/runtime-root.sh).  No shell, no package manager.
#
# DEBIAN is a full name: podman resolves a short one (debian:trixie-slim)
# through its registries configuration, which may have no docker.io.

ARG DEBIAN=docker.io/library/debian:trixie-slim

FROM ${DEBIAN} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc make pkg-config libc6-dev git ca-certificates apparmor \
      libseccomp-dev libcjson-dev libapparmor-dev libcurl4-openssl-dev \
      libinotifytools0-dev libssl-dev libyaml-dev libmicrohttpd-dev \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*
WORKDIR /src
COPY . .
ARG VERSION=
RUN make VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}" \
 && make install DESTDIR=/out PREFIX=/usr
RUN sh deploy/image/runtime-root.sh /out/usr/bin/profiled /rootfs

FROM scratch
COPY --from=build /rootfs/ /
COPY deploy/profiles /usr/share/profiled/examples
ENV PATH=/usr/sbin:/usr/bin
USER 0
ENTRYPOINT ["/usr/bin/profiled"]
CMD ["run"]
