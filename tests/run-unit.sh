#!/bin/sh
#
# run-unit.sh — runs cmocka unit-test binaries and adds up their results.
#
# usage: sh tests/run-unit.sh [--valgrind] BIN...
#
# Each binary runs with CMOCKA_MESSAGE_OUTPUT=stdout (with --valgrind, under
# valgrind, which exits 99 on memory errors and definite or indirect leaks).
# Its output is printed, and its "[  PASSED  ] N test(s)." and
# "[  FAILED  ] N test(s), listed below:" lines are counted.  A binary that
# is missing, crashes, prints no summary, or exits with a status other than
# its number of failed tests (valgrind errors, for one) counts as one more
# failure.  The last line is "unit: N passed, M failed"; the exit status is
# 0 only when M is 0.

usage()
{
	echo "usage: sh tests/run-unit.sh [--valgrind] BIN..." >&2
	exit 2
}

vg=
case ${1-} in
--valgrind)
	vg=1
	shift
	;;
--)
	shift
	;;
-*)
	usage
	;;
esac
[ $# -gt 0 ] || usage

out=$(mktemp "${TMPDIR:-/tmp}/run-unit.XXXXXX") || exit 2
trap 'rm -f "$out"' 0
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0
failed=0
for bin in "$@"; do
	case $bin in
	*/*)	path=$bin ;;
	*)	path=./$bin ;;
	esac
	echo "== $bin"
	if [ ! -f "$path" ] || [ ! -x "$path" ]; then
		echo "run-unit: $bin: no such executable (one failure)"
		failed=$((failed + 1))
		continue
	fi
	if [ -n "$vg" ]; then
		CMOCKA_MESSAGE_OUTPUT=stdout valgrind --error-exitcode=99 \
		    --leak-check=full \
		    --errors-for-leak-kinds=definite,indirect \
		    -q "$path" >"$out" 2>&1
	else
		CMOCKA_MESSAGE_OUTPUT=stdout "$path" >"$out" 2>&1
	fi
	rc=$?
	cat "$out"

	# Not anchored: a stderr line can land inside a buffered stdout line.
	p=$(sed -n 's/.*\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*/\1/p' \
	    "$out" | tail -n 1)
	f=$(sed -n \
	    's/.*\[  FAILED  \] \([0-9][0-9]*\) test(s), listed below:.*/\1/p' \
	    "$out" | tail -n 1)
	f=${f:-0}
	if [ -z "$p" ]; then
		echo "run-unit: $bin: exit status $rc and no cmocka summary" \
		    "(crashed; one failure)"
		failed=$((failed + f + 1))
		continue
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne $((f % 256)) ]; then
		if [ -n "$vg" ] && [ "$rc" -eq 99 ]; then
			why="valgrind reported errors"
		elif [ "$rc" -gt 128 ]; then
			why="killed by signal $((rc - 128))"
		else
			why="expected $((f % 256))"
		fi
		echo "run-unit: $bin: exit status $rc, $why (one failure)"
		failed=$((failed + 1))
	fi
done

echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
