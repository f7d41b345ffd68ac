#!/bin/sh
# No SQL is ever built by formatting strings: statements are constant text
# with $n parameters (app/stmts.c).  This lists every printf-like call in
# app/ and lib/ whose format, on its line or the next two, starts with an
# SQL keyword, and fails when there is one.  It first proves that it finds
# such a call in a sample.
#
# usage: sh tests/check-sql.sh [FILE...]   (default: app/*.c lib/*.c)
set -u
cd "$(dirname "$0")/.."

find_sql() {
	grep -n -A2 -E '(s?n?printf|buf_printf|strcat|strcpy)[[:space:]]*\(' \
	    "$@" /dev/null |
	    grep -iE '"[[:space:]]*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|DROP|ALTER|SET|TRUNCATE|COPY)[[:space:]]'
}

sample=$(mktemp "${TMPDIR:-/tmp}/check-sql.XXXXXX.c") || exit 2
trap 'rm -f "$sample"' EXIT
cat > "$sample" <<'C'
	snprintf(q, sizeof(q),
	    "SELECT * FROM messages WHERE id = %s", id);
C
if ! find_sql "$sample" >/dev/null; then
	echo "check-sql: the check does not find SQL built in a sample"
	echo "check-sql: 0 passed, 1 failed"
	exit 1
fi
[ $# -gt 0 ] || set -- app/*.c lib/*.c
if found=$(find_sql "$@"); then
	echo "check-sql: SQL built with a printf-like call (use stmts.c):"
	printf '%s\n' "$found"
	echo "check-sql: 0 passed, 1 failed"
	exit 1
fi
echo "check-sql: 1 passed, 0 failed"
