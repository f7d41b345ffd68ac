#!/bin/sh
# Installs the Debian packages wadesk needs to build, run and test, only
# those that are missing.  A no-op when everything is present.
set -eu

# libcurl4-openssl-dev: the header only (the binary does not link libcurl);
# it brings libcurl4, which `wadesk dispatch` loads at run time.
pkgs="gcc make pkg-config libc6-dev ca-certificates curl procps openssl
libfcgi-dev libjson-c-dev libpq-dev libsodium-dev libcurl4-openssl-dev
postgresql postgresql-contrib postgresql-client nginx
libcmocka-dev valgrind
python3 python3-pytest python3-requests python3-psycopg2 python3-yaml
chromium chromium-driver python3-selenium
docker-compose"

# make bench also needs wrk (pgbench comes with PostgreSQL).
[ "${BENCH_PKGS:-0}" = 1 ] && pkgs="wrk"
# make fuzz needs clang and its libFuzzer runtime.
[ "${FUZZ_PKGS:-0}" = 1 ] && pkgs="clang libclang-rt-14-dev"

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
if [ "$(id -u)" = 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "deps: missing packages:$missing; install them as root" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Package scripts must not start system-wide PostgreSQL or nginx services:
# the stack runs its own on its own ports.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod 755 "$policy"
	own_policy=1
fi
$sudo apt-get update -q >/dev/null
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
[ $own_policy = 1 ] && $sudo rm -f "$policy"
exit 0
