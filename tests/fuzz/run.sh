#!/bin/sh
#
# run.sh — builds the libFuzzer targets (when a source changed) and runs each
# for a while.
#
# usage: sh tests/fuzz/run.sh [SECONDS] [TARGET...]
#
# SECONDS (default 60, at least 1) is each target's -max_total_time;
# TARGETs are names like fuzz_jsonb (default: every tests/fuzz/fuzz_*.c).
# Targets run one after another, under `nice -n 10`, with -timeout=5
# -rss_limit_mb=1024.  Each starts from its seeds in
# tests/fuzz/corpus/<target>/ (only read) plus what earlier runs found in
# $BUILD/fuzz/corpus/<target>/, where new inputs go.  A crash, leak, timeout
# or out-of-memory input is copied to tests/fuzz/crashes/ as
# <target>-<kind>-<sha1>; the full log is $BUILD/fuzz/log/<target>.log.
#
# Build: clang, -g -O1 -fsanitize=address,undefined
# -fno-sanitize-recover=all, plus fuzzer-no-link coverage for the code under
# test.  Every lib/*.c goes into $BUILD/fuzz/liblib.a and every app/*.c but
# main.c (with $BUILD/migrations.c and $BUILD/openapi.c, which run.sh asks
# make for when missing) into $BUILD/fuzz/libapp.a; a target links its own
# object against the two archives, so it gets only the objects it needs.  A
# source that does not compile is left out of its archive with a warning
# (only the targets that need it then fail to link).  FUZZ_CC, BUILD and
# CFLAGS_EXTRA may be set in the environment; FUZZ_FLAGS adds libFuzzer
# flags to every run (for instance "-fork=1 -ignore_crashes=1" to go on past
# a known crash).
#
# One line per target, then "fuzz: N targets clean, M with findings"; the
# exit status is 0 only when M is 0 (a target that fails to build counts as
# a finding).  Needs clang and libclang-rt-14-dev (Debian 12).
set -u

cd "$(dirname "$0")/../.." || exit 2

CC=${FUZZ_CC:-clang}
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
OUT=$BUILD/fuzz
PKGS="json-c libpq libsodium"
# libcurl: headers only (lib/http.c loads it at run time, as in the Makefile).
PKGS_HDR="libcurl"

secs=60
case ${1-} in
'' | *[!0-9]*) ;;
*)
	secs=$1
	shift
	;;
esac
# -max_total_time=0 would mean "forever".
[ "$secs" -ge 1 ] || secs=1

if [ $# -gt 0 ]; then
	targets=$*
else
	targets=
	for f in tests/fuzz/fuzz_*.c; do
		[ -f "$f" ] && targets="$targets $(basename "$f" .c)"
	done
fi

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "fuzz: $CC not found (Debian: apt-get install clang" \
	    "libclang-rt-14-dev)" >&2
	exit 2
fi
mkdir -p "$OUT/obj" "$OUT/bin" "$OUT/log" "$OUT/corpus" "$OUT/tmp" \
    tests/fuzz/crashes || exit 2
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *, size_t);' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
    '{ (void)d; (void)n; return 0; }' >"$OUT/tmp/probe.c"
if ! $CC -fsanitize=fuzzer,address,undefined -o "$OUT/tmp/probe" \
    "$OUT/tmp/probe.c" >"$OUT/tmp/probe.log" 2>&1; then
	cat "$OUT/tmp/probe.log" >&2
	echo "fuzz: $CC cannot link libFuzzer (Debian: apt-get install" \
	    "clang libclang-rt-14-dev)" >&2
	exit 2
fi
if [ ! -f "$BUILD/migrations.c" ] || [ ! -f "$BUILD/openapi.c" ]; then
	$MAKE --no-print-directory BUILD="$BUILD" \
	    "$BUILD/migrations.c" "$BUILD/openapi.c" >&2 || exit 2
fi

# shellcheck disable=SC2086
PKG_CFLAGS=$(pkg-config --cflags $PKGS $PKGS_HDR) || exit 2
# shellcheck disable=SC2086
PKG_LIBS=$(pkg-config --libs $PKGS) || exit 2
WARN="-Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
-Wmissing-prototypes -Wmissing-declarations -Wold-style-definition
-Wpointer-arith -Wcast-qual -Wwrite-strings -Wformat=2 -Wundef
-Wsign-compare -Wtype-limits -Wvla -fno-common"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS_F="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer $SAN
$WARN -Ilib -Iapp $PKG_CFLAGS ${CFLAGS_EXTRA:-}"
# stale OUT IN...: true when OUT is missing or older than an input.
stale()
{
	s_out=$1
	shift
	[ -f "$s_out" ] || return 0
	for s_in; do
		[ -n "$(find "$s_in" -newer "$s_out")" ] && return 0
	done
	return 1
}

# Touched when a header changes: every object older than it is rebuilt.
newest_h=$OUT/headers.stamp
if [ ! -f "$newest_h" ] ||
    [ -n "$(find lib app -name '*.h' -newer "$newest_h")" ]; then
	touch "$newest_h"
fi

# archive NAME SRC...: compiles the sources (coverage on) that are stale
# and packs the objects that exist into $OUT/NAME.a.
archive()
{
	a=$OUT/$1.a
	shift
	objs=
	for s; do
		o=$OUT/obj/$(echo "$s" | tr / _ | sed 's/\.c$/.o/')
		if stale "$o" "$s" "$newest_h"; then
			# shellcheck disable=SC2086
			if ! $CC $CFLAGS_F -fsanitize=fuzzer-no-link -c \
			    -o "$o" "$s" >&2; then
				echo "fuzz: warning: $s does not compile;" \
				    "left out of $a" >&2
				rm -f "$o"
				continue
			fi
		fi
		objs="$objs $o"
	done
	# Rebuilt when an object is newer or the member list changed.
	# shellcheck disable=SC2086
	if stale "$a" $objs || [ "$(cat "$a.list" 2>/dev/null)" != "$objs" ]
	then
		rm -f "$a"
		# shellcheck disable=SC2086
		ar rcs "$a" $objs || return 1
		echo "$objs" >"$a.list"
	fi
}

archive liblib lib/*.c || exit 2
set --
for f in app/*.c; do
	[ "$f" = app/main.c ] || set -- "$@" "$f"
done
archive libapp "$@" "$BUILD/migrations.c" "$BUILD/openapi.c" || exit 2

# build TARGET: compiles tests/fuzz/TARGET.c (-Werror: it is ours) and links
# $OUT/bin/TARGET when something changed.
build()
{
	src=tests/fuzz/$1.c
	o=$OUT/obj/$1.o
	b=$OUT/bin/$1
	if [ ! -f "$src" ]; then
		echo "fuzz: no such target: $1" >&2
		return 1
	fi
	if stale "$o" "$src" "$newest_h"; then
		# shellcheck disable=SC2086
		$CC $CFLAGS_F -Werror -c -o "$o" "$src" >&2 || return 1
	fi
	if stale "$b" "$o" "$OUT/libapp.a" "$OUT/liblib.a"; then
		# shellcheck disable=SC2086
		$CC -fsanitize=fuzzer,address,undefined -o "$b" "$o" \
		    "$OUT/libapp.a" "$OUT/liblib.a" -lfcgi $PKG_LIBS >&2 ||
		    return 1
	fi
}

# UBSan reports carry a stack (ASan's always do).
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export UBSAN_OPTIONS

# The first line of a report, for the summary.
first_error='(^==[0-9]+==ERROR|runtime error|^fuzz_[a-z0-9]+: invariant)'

clean=0
found=0
for t in $targets; do
	if ! build "$t"; then
		echo "$t: BUILD FAILED"
		found=$((found + 1))
		continue
	fi
	work=$OUT/corpus/$t
	seeds=tests/fuzz/corpus/$t
	art=$OUT/tmp/$t/
	log=$OUT/log/$t.log
	mkdir -p "$work" "$seeds" "$art"
	rm -f "$art"*
	# shellcheck disable=SC2086
	nice -n 10 "$OUT/bin/$t" -max_total_time="$secs" -timeout=5 \
	    -rss_limit_mb=1024 -print_final_stats=1 \
	    -artifact_prefix="$art" ${FUZZ_FLAGS:-} "$work" "$seeds" \
	    >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -n 1)
	[ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" |
	    tail -n 1)
	[ -n "$runs" ] || runs=0
	arts=
	for f in "$art"*; do
		[ -f "$f" ] || continue
		name=$(basename "$f")
		kind=${name%%-*}
		dst=tests/fuzz/crashes/$t-$kind-$(sha1sum <"$f" | cut -c1-40)
		cp "$f" "$dst"
		arts="${arts:+$arts }$dst"
	done
	if [ $rc -eq 0 ] && [ -z "$arts" ]; then
		echo "$t: clean, $runs runs in ${secs}s"
		clean=$((clean + 1))
	else
		what=$(grep -m 1 -E "$first_error" "$log" | cut -c1-200)
		echo "$t: FINDING (exit $rc) after $runs runs:" \
		    "${arts:-no input}; ${what:-see $log}"
		found=$((found + 1))
	fi
done
echo "fuzz: $clean targets clean, $found with findings"
[ $found -eq 0 ]
