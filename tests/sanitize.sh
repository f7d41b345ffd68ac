#!/bin/sh
# make sanitize: the unit and integration suites against the ASan+UBSan
# build (build-san), on its own ports and var/test-san.  Any sanitizer
# report (they are written to var/test-san/asan.*) fails the run.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$top/var/test-san
mkdir -p "$out"
rm -f "$out"/asan.* "$out"/ubsan.*
export WADESK_BIN=$top/build-san/wadesk WADESK_TEST_BUILD=build-san
export WADESK_TEST_VAR=var/test-san
export WADESK_TEST_HTTP_PORT=${WADESK_SAN_HTTP_PORT:-18480}
export WADESK_TEST_PG_PORT=${WADESK_SAN_PG_PORT:-54469}
export ASAN_OPTIONS="log_path=$out/asan:detect_leaks=1:halt_on_error=1"
export UBSAN_OPTIONS="log_path=$out/ubsan:print_stacktrace=1:halt_on_error=1"
sh tests/run-all.sh
rc=$?
reports=$(ls "$out"/asan.* "$out"/ubsan.* 2>/dev/null)
if [ -n "$reports" ]; then
	echo "sanitize: reports found:"
	for f in $reports; do
		echo "== $f"
		head -40 "$f"
	done
	exit 1
fi
echo "sanitize: no sanitizer reports"
exit $rc
