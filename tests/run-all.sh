#!/bin/sh
# make test: a private stack (its own ports and var/test), then every suite.
# Ends with one line "N passed, N failed, N skipped"; exits non-zero on any
# failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export WADESK_HTTP_PORT=${WADESK_TEST_HTTP_PORT:-18080}
export WADESK_PG_PORT=${WADESK_TEST_PG_PORT:-54339}
# The simulated provider, quick enough for tests to watch a whole lifecycle.
export WADESK_PROVIDER=simulated WADESK_SIM_DELIVER_MS=300 WADESK_SIM_READ_MS=600
# Event deliveries retry sooner than the default 5 s.
export WADESK_EVENTS_RETRY_BASE_MS=${WADESK_EVENTS_RETRY_BASE_MS:-500}
# A number is paced at WhatsApp's 80 messages/s by default: the thousands of
# sends of a load test, all from the stack's one number, would hold the
# next suites' sends for minutes.  The pacing tests set their own rate.
export WADESK_NUMBER_MPS=${WADESK_NUMBER_MPS:-1000}
# make sanitize runs the same suites against the sanitizer build.
var=$top/${WADESK_TEST_VAR:-var/test}
build=${WADESK_TEST_BUILD:-build}
py=/usr/bin/python3
passed=0 failed=0 skipped=0

count() {	# count "label" "N passed" line from a suite's output
	p=$(printf '%s\n' "$2" | grep -Eo '[0-9]+ passed' | tail -1 | cut -d' ' -f1)
	f=$(printf '%s\n' "$2" | grep -Eo '[0-9]+ (failed|errors?)' | awk '{s+=$1} END {print s+0}')
	s=$(printf '%s\n' "$2" | grep -Eo '[0-9]+ skipped' | tail -1 | cut -d' ' -f1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	skipped=$((skipped + ${s:-0}))
	if [ "$3" != 0 ] && [ "${f:-0}" = 0 ]; then
		echo "$1: exited $3 without a failure count; counting one failure"
		failed=$((failed + 1))
	fi
}

# A fresh stack every run: nothing left from an earlier one.
sh nginx/stack.sh reset "$var" >/dev/null 2>&1
trap 'sh nginx/stack.sh stop "$var" >/dev/null 2>&1' EXIT INT TERM
if ! sh nginx/stack.sh start "$var"; then
	echo "the test stack did not start"
	for f in "$var"/log/*.log; do
		[ -f "$f" ] && { echo "== $f"; tail -20 "$f"; }
	done
	echo "0 passed, 1 failed"
	exit 1
fi

echo "== unit tests"
out=$(sh tests/run-unit.sh "$build"/tests/test_* 2>&1); rc=$?
# Only what went wrong, then the count.
printf '%s\n' "$out" | grep -aE 'FAILED|ERROR|SKIPPED|run-unit:' | head -40
printf '%s\n' "$out" | tail -1
count unit "$(printf '%s\n' "$out" | tail -1)" $rc

echo "== static checks"
out=$(sh tests/check-sql.sh 2>&1); rc=$?
printf '%s\n' "$out"
count static "$(printf '%s\n' "$out" | tail -1)" $rc

echo "== integration tests (nginx -> FastCGI -> PostgreSQL)"
out=$(WADESK_ENV_FILE="$var/dev.env" $py -m pytest tests/integ -q \
    --tb=short -rs -p no:cacheprovider 2>&1); rc=$?
printf '%s\n' "$out" | tail -60
count integ "$(printf '%s\n' "$out" | tail -1)" $rc

echo "== failover (a primary and a synchronous standby; the primary killed)"
out=$(WADESK_FAILOVER_HTTP_PORT=$((WADESK_HTTP_PORT + 1)) \
    WADESK_FAILOVER_PG_PORT=$((WADESK_PG_PORT + 1)) \
    WADESK_FAILOVER_VAR=${WADESK_TEST_VAR:-var/test}-failover \
    $py -m pytest tests/failover -q --tb=short -rs -p no:cacheprovider 2>&1)
rc=$?
printf '%s\n' "$out" | tail -40
cat "$var-failover/report.txt" 2>/dev/null
count failover "$(printf '%s\n' "$out" | tail -1)" $rc

echo "== browser tests (headless Chromium -> the admin pages)"
out=$(WADESK_ENV_FILE="$var/dev.env" $py -m pytest tests/browser -q \
    --tb=line -rs -p no:cacheprovider 2>&1); rc=$?
printf '%s\n' "$out" | tail -40
count browser "$(printf '%s\n' "$out" | tail -1)" $rc

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
