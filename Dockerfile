# syntax=docker/dockerfile:1
# profiled: a build stage with the toolchain, a slim runtime without it.
#
#   docker build -t profiled .
#
# The runtime stage carries the shared libraries `ldd profiled` lists and the
# AppArmor parser with its standard abstractions (profiles include them);
# nothing else.

ARG DEBIAN=debian:bookworm-slim

FROM ${DEBIAN} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc make pkg-config libc6-dev git ca-certificates \
      libseccomp-dev libcjson-dev libapparmor-dev libcurl4-openssl-dev \
      libinotifytools0-dev libssl-dev libyaml-dev libmicrohttpd-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ARG VERSION=
RUN make VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}" \
 && make install DESTDIR=/out PREFIX=/usr

FROM ${DEBIAN}
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
