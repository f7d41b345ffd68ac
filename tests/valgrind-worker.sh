#!/bin/sh
# make valgrind-worker: the worker pool under valgrind (memcheck, children
# traced) while the send, list, get, webhook and error suites run through
# nginx; then every valgrind log must show no errors and no definite or
# indirect leaks.  Slow (valgrind), so not part of make test.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
var=$top/var/test-vg
export WADESK_HTTP_PORT=${WADESK_VG_HTTP_PORT:-18580}
export WADESK_PG_PORT=${WADESK_VG_PG_PORT:-54479}
export WADESK_WORKERS=2
mkdir -p "$var"
rm -f "$var"/vg.*
export WADESK_SERVE_WRAPPER="valgrind -q --trace-children=yes \
--leak-check=full --errors-for-leak-kinds=definite,indirect \
--show-leak-kinds=definite,indirect --log-file=$var/vg.%p"
sh nginx/stack.sh reset "$var" >/dev/null 2>&1
trap 'sh nginx/stack.sh stop "$var" >/dev/null 2>&1' EXIT INT TERM
sh nginx/stack.sh start "$var" || { echo "valgrind-worker: stack did not start"; exit 1; }
WADESK_ENV_FILE="$var/dev.env" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
    tests/integ/test_send.py tests/integ/test_list.py tests/integ/test_get.py \
    tests/integ/test_webhook.py tests/integ/test_webhook_cloud.py \
    tests/integ/test_errors.py tests/integ/test_idempotency.py 2>&1 | tail -3
# Stop the pool so every worker exits and valgrind writes its leak report.
sh nginx/stack.sh stop "$var" >/dev/null 2>&1
trap - EXIT INT TERM
bad=0
n=0
for f in "$var"/vg.*; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	if [ -s "$f" ]; then
		echo "== $f"
		head -60 "$f"
		bad=$((bad + 1))
	fi
done
echo "valgrind-worker: $n process logs, $bad with errors or leaks"
[ "$n" -gt 0 ] && [ "$bad" = 0 ]
