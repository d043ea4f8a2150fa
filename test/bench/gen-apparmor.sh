#!/bin/bash
# gen-apparmor.sh DIR N: writes N realistic AppArmor container profiles into
# DIR (files p0001 ...), each one profile `bench-NNNN`, cycling through four
# shapes seen in clusters: the Kubernetes tutorial's deny-write profile
# (tunables + base), a web server (base, nameservice, openssl, ssl_certs), a
# Python service (base, python, nameservice) and a shell-based job (base,
# bash, consoles).  Every profile has its own paths, so no two files are
# alike.  Prints nothing.
set -euo pipefail
dir=$1 n=$2
mkdir -p "$dir"
for i in $(seq 1 "$n"); do
	id=$(printf '%04d' "$i")
	case $((i % 4)) in
	0) body="  #include <abstractions/base>

  file,
  # Deny all file writes.
  deny /** w," ;;
	1) body="  #include <abstractions/base>
  #include <abstractions/nameservice>
  #include <abstractions/openssl>
  #include <abstractions/ssl_certs>

  capability net_bind_service,
  capability setgid,
  capability setuid,
  capability dac_override,
  network inet tcp,
  network inet6 tcp,
  /usr/sbin/nginx mr,
  /etc/nginx/** r,
  /usr/share/nginx/** r,
  /var/www/site-$id/** r,
  /var/log/nginx/*.log w,
  /run/nginx.pid rw,
  /var/lib/nginx/** rw,
  deny /proc/sys/** w,
  deny /sys/** w," ;;
	2) body="  #include <abstractions/base>
  #include <abstractions/python>
  #include <abstractions/nameservice>

  network inet stream,
  network inet6 stream,
  /usr/bin/python3* ix,
  /app-$id/** r,
  /app-$id/data/** rw,
  /tmp/** rw,
  owner /proc/@{pid}/fd/ r,
  deny /etc/shadow r,
  deny mount," ;;
	3) body="  #include <abstractions/base>
  #include <abstractions/bash>
  #include <abstractions/consoles>

  /{usr/,}bin/{ba,da,}sh ix,
  /usr/bin/{cat,cp,mv,rm,ls,mkdir,tar,gzip,sleep,date} ix,
  /job-$id/** rwk,
  /var/tmp/** rw,
  deny ptrace,
  deny /proc/*/mem rw," ;;
	esac
	cat >"$dir/p$id" <<P
#include <tunables/global>

profile bench-$id flags=(attach_disconnected,mediate_deleted) {
$body
}
P
done
