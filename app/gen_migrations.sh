#!/bin/sh
# Turns sql/NNN_name.sql files into a C table compiled into the binary, so a
# deployed wadesk carries its own migrations.  Usage: gen_migrations.sh FILES...
set -eu
echo '/* Generated from the sql/ migrations by app/gen_migrations.sh; do not edit. */'
echo '#include "migrate.h"'
echo 'const struct migration migrations[] = {'
for f in "$@"; do
	name=$(basename "$f" .sql)
	printf '\t{ "%s",\n' "$name"
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t  "/' -e 's/$/\\n"/' "$f"
	printf '\t},\n'
done
echo '};'
echo 'const unsigned int migrations_count = sizeof(migrations) / sizeof(migrations[0]);'
