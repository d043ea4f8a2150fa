# syntax=docker/dockerfile:1
# profiled: a build stage with the toolchain, a slim runtime without it.
#
#   docker build -t profiled .
#
# The runtime stage carries the shared libraries `ldd profiled` lists and the
# AppArmor parser with its standard abstractions (profiles include them);
# nothing else.

ARG DEBIAN=debian:bookworm-slim
# The build stage runs on the build machine's platform (BUILDPLATFORM) and,
# for another TARGETARCH (docker/podman build --platform linux/arm64),
# cross-compiles with Debian's cross compiler and the target's -dev packages
# (dpkg --add-architecture): nothing is emulated but the runtime stage's
# apt-get. BUILD_BASE: the build stage's base when DEBIAN names an image of
# the target's platform only (test/cluster/image.sh). Podman 4.3 sets neither
# BUILDPLATFORM nor TARGETARCH: pass both as --build-arg there.
ARG BUILD_BASE=${DEBIAN}

FROM --platform=$BUILDPLATFORM ${BUILD_BASE} AS build
ARG TARGETARCH
RUN set -e; host=$(dpkg --print-architecture); target=${TARGETARCH:-$host}; \
    dev="libc6-dev libseccomp-dev libcjson-dev libapparmor-dev libcurl4-openssl-dev \
      libinotifytools0-dev libssl-dev libyaml-dev libmicrohttpd-dev"; \
    case $target in amd64) t=x86_64-linux-gnu ;; arm64) t=aarch64-linux-gnu ;; \
      *) echo "TARGETARCH $target: no cross compiler named here" >&2; exit 1 ;; esac; \
    echo "$t" >/etc/profiled-target; \
    if [ "$target" = "$host" ]; then pkgs="gcc $dev"; \
    else dpkg --add-architecture "$target"; \
      pkgs="gcc-$(echo "$t" | tr _ -) $(printf "%s:$target " $dev)"; fi; \
    apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      make pkg-config git ca-certificates $pkgs \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ARG VERSION=
RUN set -e; host=$(dpkg --print-architecture); target=${TARGETARCH:-$host}; \
    if [ "$target" != "$host" ]; then t=$(cat /etc/profiled-target); \
      set -- CC="$t-gcc" AR="$t-ar" \
        PKG_CONFIG="PKG_CONFIG_LIBDIR=/usr/lib/$t/pkgconfig:/usr/share/pkgconfig pkg-config"; fi; \
    make "$@" VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}" \
 && make "$@" install DESTDIR=/out PREFIX=/usr

FROM --platform=$TARGETPLATFORM ${DEBIAN}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libseccomp2 libcjson1 libapparmor1 libssl3 libinotifytools0 libcurl4 libyaml-0-2 libmicrohttpd12 \
      ca-certificates \
      apparmor \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/usr/bin/profiled /usr/bin/profiled
COPY deploy/profiles /usr/share/profiled/examples
USER 0
ENTRYPOINT ["/usr/bin/profiled"]
CMD ["run"]
