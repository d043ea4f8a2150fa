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

# The build stage runs on the build machine's platform (BUILDPLATFORM).  For
# another TARGETARCH (--platform linux/arm64) it cross-compiles with Debian's
# cross compiler against the target's -dev packages (dpkg --add-architecture
# in this container), which also install the target's shared libraries; the
# target's apparmor package is only downloaded and unpacked (dpkg-deb -x).
# Nothing of the target's runs: no emulation.  Podman 4.3 sets neither
# BUILDPLATFORM nor TARGETARCH: pass both as --build-arg there.
FROM --platform=$BUILDPLATFORM ${DEBIAN} AS build
ARG TARGETARCH
RUN set -e; host=$(dpkg --print-architecture); target=${TARGETARCH:-$host}; \
    dev="libc6-dev libseccomp-dev libcjson-dev libapparmor-dev libcurl4-openssl-dev \
      libinotifytools0-dev libssl-dev libyaml-dev libmicrohttpd-dev"; \
    if [ "$target" = "$host" ]; then pkgs="gcc apparmor $dev"; t=; \
    else case $target in arm64) t=aarch64-linux-gnu ;; \
        *) echo "TARGETARCH $target: no cross compiler named here" >&2; exit 1 ;; esac; \
      dpkg --add-architecture "$target"; \
      pkgs="gcc-$(echo "$t" | tr _ -) $(printf "%s:$target " $dev)"; fi; \
    echo "$t" >/etc/profiled-target; \
    apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      make pkg-config git ca-certificates $pkgs \
 && if [ -n "$t" ]; then mkdir -p /target && cd /target \
      && apt-get download "apparmor:$target" \
      && dpkg-deb -x apparmor_*.deb /target/apparmor && dpkg-deb -e apparmor_*.deb /target/apparmor/DEBIAN \
      && rm apparmor_*.deb; fi \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*
WORKDIR /src
COPY . .
ARG VERSION=
RUN set -e; t=$(cat /etc/profiled-target); \
    if [ -n "$t" ]; then \
      set -- CC="$t-gcc" AR="$t-ar" \
        PKG_CONFIG="PKG_CONFIG_LIBDIR=/usr/lib/$t/pkgconfig:/usr/share/pkgconfig pkg-config"; \
      export RUNTIME_TRIPLET="$t" RUNTIME_APPARMOR_ROOT=/target/apparmor; fi; \
    make "$@" VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}" \
 && make "$@" install DESTDIR=/out PREFIX=/usr \
 && sh deploy/image/runtime-root.sh /out/usr/bin/profiled /rootfs

FROM scratch
COPY --from=build /rootfs/ /
COPY deploy/profiles /usr/share/profiled/examples
ENV PATH=/usr/sbin:/usr/bin
USER 0
ENTRYPOINT ["/usr/bin/profiled"]
CMD ["run"]
