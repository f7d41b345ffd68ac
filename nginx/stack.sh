#!/bin/sh
# The local wadesk stack: PostgreSQL, the FastCGI worker pool, the
# dispatcher and nginx.
#
#   stack.sh run   VAR   start everything, print the URL and credentials,
#                        stay in the foreground; Ctrl-C stops it all
#   stack.sh start VAR   start everything in the background
#   stack.sh stop  VAR   stop what start started (by PID files)
#   stack.sh reset VAR   stop, then delete the database cluster and secrets
#   stack.sh pg    VAR stop|start|restart   the database alone (for tests)
#
# Ports: WADESK_HTTP_PORT (default 8080), WADESK_PG_PORT (default 54329).
# The business number: WADESK_BUSINESS_NUMBER (default +15550001111; set it
# empty for none), the default sender of every form.
# VAR holds settings (dev.env), logs (log/) and PID files (pids/).  The
# database cluster and the sockets live in a folder the unprivileged
# database and nginx users can enter (/var/tmp/wadesk-<hash>), linked from
# VAR, because the checkout itself may sit under /root.  That name is
# predictable and /var/tmp is everybody's: the folder must be a real folder
# of ours that only we can write, else the stack refuses to start.
#
# PostgreSQL: TCP logins need the password (scram-sha-256), generated once
# and kept in VAR/secrets.env and in WADESK_DATABASE_URL (VAR/dev.env); the
# superuser logs in only through the unix socket in the cluster's own
# folder (mode 0700), i.e. as the cluster's owner or root.
#
# WADESK_DATABASE_URL set (and not the URL of this VAR's own cluster, as in
# a shell that sourced dev.env): that database is used instead, migrated,
# and given the dev API key and admin user; no cluster is created, started
# or stopped.  VAR/db.external marks such a stack for `stop`.
set -eu

usage() {
	echo "usage: $0 run|start|stop|reset VAR | pg VAR stop|start|restart" >&2
	exit 2
}
[ $# -ge 2 ] || usage
cmd=$1
mkdir -p "$2"
var=$(cd "$2" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
# WADESK_BIN: another build of the binary (make sanitize uses build-san).
bin=${WADESK_BIN:-$top/build/wadesk}
http_port=${WADESK_HTTP_PORT:-8080}
pg_port=${WADESK_PG_PORT:-54329}
hash=$(printf '%s' "$var" | sha256sum | cut -c1-12)
shared=/var/tmp/wadesk-$hash
pgdata=$shared/pg
run=$shared/run
sock=$run/wadesk.sock
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

say() { printf '%s\n' "$*" >&2; }
die() { say "stack: $*"; exit 1; }

# The database given in WADESK_DATABASE_URL, unless it is this VAR's own
# cluster (its URL carries the password kept in VAR/secrets.env).
external_url() {
	_url=${WADESK_DATABASE_URL:-}
	[ -n "$_url" ] || return 0
	if [ -f "$var/secrets.env" ]; then
		_pw=$(sed -n 's/^WADESK_PG_PASSWORD=//p' "$var/secrets.env")
		case $_url in
		*"//wadesk:$_pw@127.0.0.1:"*) [ -n "$_pw" ] && return 0 ;;
		esac
	fi
	printf '%s\n' "$_url"
}
ext_url=$(external_url)
# dev.env quotes it for the shell: a URL has no quote of its own.
case $ext_url in *"'"*) die "WADESK_DATABASE_URL must not contain a quote (percent-encode it)" ;; esac

# PostgreSQL refuses to run as root: use the postgres user then.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

rand() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# pid_alive FILE: the process whose PID FILE holds runs.
# - One read of /proc/PID/stat: a process that exited but that nobody
#   reaped yet (a zombie) is not alive, and one reaped between two reads
#   must not look alive either.
# - It started before FILE was written (our processes are started, then
#   their PID written; nginx writes its own once started): after a reboot
#   or a restarted container, the PID of a file left behind may belong to
#   another program, which must be neither signalled nor mistaken for ours.
#   The process's start is known through the wall clock (the boot's time):
#   a minute's slack lets the clock be set forward while the stack runs.
boot_s=$(awk '/^btime/ { print $2 }' /proc/stat 2>/dev/null)
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
pid_alive() {
	_pa_written=$(stat -c %Y "$1" 2>/dev/null) || return 1
	_pid=$(cat "$1" 2>/dev/null)
	case $_pid in '' | *[!0-9]*) return 1 ;; esac
	_stat=$(cat "/proc/$_pid/stat" 2>/dev/null) || return 1
	# Fields after "PID (comm) ": state is the 1st, starttime the 20th.
	set -f
	set -- ${_stat##*) }
	set +f
	case ${1:-Z} in Z* | X* | x*) return 1 ;; esac
	[ -n "$boot_s" ] && [ -n "${20:-}" ] || return 0
	[ $((boot_s + ${20} / clk_tck)) -le $((_pa_written + 60)) ]
}

# The user and group of nginx's workers, who connect to the FastCGI socket.
# As root nginx switches to Debian's www-data (else nobody/nogroup); as
# anyone else it stays that user.
if [ "$(id -u)" = 0 ]; then
	if getent passwd www-data >/dev/null 2>&1; then
		web_user=www-data web_group=www-data
	else
		web_user=nobody web_group=nogroup
	fi
else
	web_user="" web_group=$(id -gn)
fi

# The shared folder: made by us (mkdir fails when the name exists), or
# accepted only when it is a folder, not a link, owned by us and writable
# by no one else.  /var/tmp is sticky, so no one else can then rename or
# replace it; everything below it is made by us (or, for the cluster, by
# the database user in a folder we made for it).
shared_dir() {
	mkdir -m 755 "$shared" 2>/dev/null && return 0
	[ -L "$shared" ] &&
	    die "$shared is a symbolic link; refusing to use it (remove it if it is yours)"
	[ -d "$shared" ] ||
	    die "$shared exists and is not a folder; refusing to use it"
	owner=$(stat -c %u "$shared")
	if [ "$owner" != "$(id -u)" ] && [ "$(id -u)" = 0 ] &&
	    [ "$owner" = "$(id -u postgres 2>/dev/null)" ]; then
		# Made by an earlier version of this script, which gave it to
		# the database user: take it back (-h: never through a link).
		chown -h 0 "$shared"
		owner=0
	fi
	[ "$owner" = "$(id -u)" ] ||
	    die "$shared belongs to another user (uid $owner); refusing to use it (it may be a trap: remove it, or use another VAR)"
	[ -z "$(find "$shared" -maxdepth 0 -perm /022)" ] ||
	    die "$shared is writable by other users; refusing to use it"
}

prepare_dirs() {
	shared_dir
	mkdir -p "$var/log" "$var/pids"
	# The sockets and nginx's files: nginx's group may enter, no one else.
	[ -d "$run" ] || mkdir -m 750 "$run"
	chmod 750 "$run"
	chgrp "$web_group" "$run"
	mkdir -p "$run/nginx-tmp"
	if [ ! -d "$pgdata" ]; then
		mkdir -m 700 "$pgdata"
		[ "$(id -u)" = 0 ] && chown postgres "$pgdata"
	fi
	ln -sfn "$pgdata" "$var/pg"
	ln -sfn "$run" "$var/run"
	if [ ! -f "$shared/postgres.log" ]; then
		touch "$shared/postgres.log"
		[ "$(id -u)" = 0 ] && chown postgres "$shared/postgres.log"
	fi
	ln -sfn "$shared/postgres.log" "$var/log/postgres.log"
}

# Writes stdin to a file of the cluster, as the cluster's owner (root
# never writes through paths the database user controls).
pg_write() {
	as_pg sh -c 'cat > "$1"' sh "$1"
}

pg_init() {
	[ -n "$pgbin" ] || die "PostgreSQL is not installed (run: make deps)"
	[ -f "$pgdata/PG_VERSION" ] && return 0
	say "stack: creating a PostgreSQL cluster in $pgdata"
	rm -f "$var/secrets.env"
	as_pg "$pgbin/initdb" -D "$pgdata" -U postgres --auth-local=trust \
	    --auth-host=scram-sha-256 -E UTF8 --lc-collate=C \
	    --lc-ctype=C.UTF-8 >/dev/null
	{
		as_pg cat "$pgdata/postgresql.conf"
		cat <<CONF
# wadesk local stack
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$pgdata'
password_encryption = scram-sha-256
max_connections = 200
shared_buffers = 256MB
# The data fits in memory and the disk is an SSD: a random read costs about
# what a sequential one does (the default 4 steers searches away from the
# trigram index).
random_page_cost = 1.1
fsync = on
synchronous_commit = on
log_min_duration_statement = 1000
CONF
	} > "$var/postgresql.conf.tmp"
	pg_write "$pgdata/postgresql.conf" < "$var/postgresql.conf.tmp"
	rm -f "$var/postgresql.conf.tmp"
}

# Who may log in: the unix socket (in the cluster's folder, mode 0700: the
# cluster's owner and root) without a password; TCP only with one.
# Written on every start, so that a cluster made by an older version of
# this script (which trusted TCP) is fixed too.
pg_hba() {
	pg_write "$pgdata/pg_hba.conf" <<HBA
# wadesk local stack (nginx/stack.sh writes this file on every start)
local	all	all			trust
host	all	all	127.0.0.1/32	scram-sha-256
host	all	all	::1/128		scram-sha-256
HBA
}

pg_start() {
	pg_init
	secrets
	# The port may change between runs; the last line wins.
	{ as_pg cat "$pgdata/postgresql.conf"; echo "port = $pg_port"; } \
	    > "$var/postgresql.conf.tmp"
	pg_write "$pgdata/postgresql.conf" < "$var/postgresql.conf.tmp"
	rm -f "$var/postgresql.conf.tmp"
	pg_hba
	if as_pg "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
		as_pg "$pgbin/pg_ctl" -D "$pgdata" reload >/dev/null 2>&1 || true
	else
		as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$shared/postgres.log" \
		    -w -t 60 start >/dev/null ||
		    die "PostgreSQL did not start; see $var/log/postgres.log"
	fi
	if ! psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'wadesk'" |
	    grep -q 1; then
		psql_admin -qc "CREATE ROLE wadesk LOGIN"
		psql_admin -qc "CREATE DATABASE wadesk OWNER wadesk"
	fi
	# On stdin, not in the arguments (which every local user can read).
	printf "ALTER ROLE wadesk PASSWORD '%s';\n" "$WADESK_PG_PASSWORD" |
	    psql_admin -q >/dev/null
}

pg_stop() {
	if [ -f "$pgdata/PG_VERSION" ]; then
		as_pg "$pgbin/pg_ctl" -D "$pgdata" -m "${1:-fast}" -w stop \
		    >/dev/null 2>&1 || true
	fi
}

# The superuser, through the cluster's unix socket.
psql_admin() {
	as_pg psql -X -h "$pgdata" -p "$pg_port" -U postgres -d postgres \
	    -v ON_ERROR_STOP=1 "$@"
}

secrets() {
	if [ ! -f "$var/secrets.env" ]; then
		{
			echo "WADESK_APP_SECRET=$(rand 32)"
			echo "WADESK_VERIFY_TOKEN=$(rand 16)"
			echo "WADESK_ADMIN_USER=admin"
			echo "WADESK_ADMIN_PASSWORD=$(rand 9)"
		} > "$var/secrets.env.tmp"
		chmod 600 "$var/secrets.env.tmp"
		mv "$var/secrets.env.tmp" "$var/secrets.env"
	fi
	# Older secrets.env files have no database password yet.
	grep -q '^WADESK_PG_PASSWORD=' "$var/secrets.env" ||
	    echo "WADESK_PG_PASSWORD=$(rand 24)" >> "$var/secrets.env"
	. "$var/secrets.env"
	if [ -n "$ext_url" ]; then
		db_url=$ext_url
	else
		db_url="postgresql://wadesk:$WADESK_PG_PASSWORD@127.0.0.1:$pg_port/wadesk"
	fi
}

write_env() {
	umask 077
	cat > "$var/dev.env" <<ENV
WADESK_URL=http://127.0.0.1:$http_port
WADESK_HTTP_PORT=$http_port
WADESK_DATABASE_URL='$db_url'
WADESK_API_KEY=$WADESK_API_KEY
WADESK_APP_SECRET=$WADESK_APP_SECRET
WADESK_VERIFY_TOKEN=$WADESK_VERIFY_TOKEN
WADESK_ADMIN_USER=$WADESK_ADMIN_USER
WADESK_ADMIN_PASSWORD=$WADESK_ADMIN_PASSWORD
WADESK_SOCKET=$sock
WADESK_VAR=$var
WADESK_DEV=1
WADESK_EVENTS_ALLOW_PRIVATE=${WADESK_EVENTS_ALLOW_PRIVATE:-1}
WADESK_BUSINESS_NUMBER=$business_number
ENV
	# Our own cluster: its port and the superuser's socket (for tests).
	[ -n "$ext_url" ] || printf 'WADESK_PG_PORT=%s\nWADESK_PG_SOCKET_DIR=%s\n' \
	    "$pg_port" "$pgdata" >> "$var/dev.env"
	umask 022
}

# Whether key $1 is an active key of the database (by its prefix, as
# `wadesk apikey list` shows it).
key_known() {
	_prefix=$(printf '%.12s' "$1")
	"$bin" apikey list 2>>"$var/log/wadesk.log" | awk -v p="$_prefix" '
	    { for (i = 2; i < NF; i++) if ($i == p && $NF == "-") found = 1 }
	    END { exit !found }'
}

app_setup() {
	[ -x "$bin" ] || die "$bin is missing (run: make)"
	export WADESK_DATABASE_URL="$db_url" WADESK_DEV=1
	# The business number every form sends from (empty: none).
	business_number=${WADESK_BUSINESS_NUMBER-+15550001111}
	export WADESK_BUSINESS_NUMBER="$business_number"
	"$bin" migrate >> "$var/log/wadesk.log" 2>&1 ||
	    die "migration failed; see $var/log/wadesk.log"
	# A key kept from an earlier run works only if this database has it
	# (another database, or one made anew, has never seen it).
	if [ -n "${WADESK_API_KEY:-}" ] && ! key_known "$WADESK_API_KEY"; then
		say "stack: the kept API key is not in this database; creating one"
		WADESK_API_KEY=""
	fi
	if [ -z "${WADESK_API_KEY:-}" ]; then
		WADESK_API_KEY=$("$bin" apikey create dev 2>>"$var/log/wadesk.log") ||
		    die "could not create the API key; see $var/log/wadesk.log"
		sed '/^WADESK_API_KEY=/d' "$var/secrets.env" > "$var/secrets.env.tmp"
		echo "WADESK_API_KEY=$WADESK_API_KEY" >> "$var/secrets.env.tmp"
		chmod 600 "$var/secrets.env.tmp"
		mv "$var/secrets.env.tmp" "$var/secrets.env"
	fi
	printf '%s\n' "$WADESK_ADMIN_PASSWORD" |
	    "$bin" user add "$WADESK_ADMIN_USER" 2>>"$var/log/wadesk.log" ||
	    die "could not create the admin user"
	write_env
}

# WADESK_POOLS (default 1): how many `wadesk serve` masters the stack runs,
# each on its own socket as if on its own host, and as many dispatchers;
# nginx balances over all the pools.  Pool 1 is serve.pid and wadesk.sock,
# pool N serve-N.pid and wadesk-N.sock (and dispatch-N.pid).
pools=${WADESK_POOLS:-1}
case $pools in
''|*[!0-9]*|0) die "WADESK_POOLS must be a number of pools, 1 or more" ;;
esac

# pool_name N: the PID file's name of pool N (serve, serve-2, ...).
pool_name() {
	if [ "$2" = 1 ]; then echo "$1"; else echo "$1-$2"; fi
}

pool_sock() {
	if [ "$1" = 1 ]; then echo "$sock"; else echo "$run/wadesk-$1.sock"; fi
}

app_start() {
	_n=1
	while [ $_n -le $pools ]; do
		pool_start $_n
		_n=$((_n + 1))
	done
}

pool_start() {
	_pf=$var/pids/$(pool_name serve "$1").pid
	_ps=$(pool_sock "$1")
	pid_alive "$_pf" && return 0
	(
		set -a
		. "$var/dev.env"
		set +a
		export WADESK_SOCKET="$_ps"
		# Only nginx's workers (its group) may connect.
		export WADESK_SOCKET_MODE=0660 WADESK_SOCKET_GROUP="$web_group"
		# WADESK_SERVE_WRAPPER: e.g. valgrind (tests/valgrind-worker.sh).
		exec ${WADESK_SERVE_WRAPPER:-} "$bin" serve \
		    >> "$var/log/wadesk.log" 2>&1
	) &
	echo $! > "$_pf"
	i=0
	while [ ! -S "$_ps" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "wadesk serve did not start; see $var/log/wadesk.log"
		pid_alive "$_pf" || die "wadesk serve exited; see $var/log/wadesk.log"
		sleep 0.1
	done
}

dispatch_start() {
	_n=1
	while [ $_n -le $pools ]; do
		_pf=$var/pids/$(pool_name dispatch $_n).pid
		_n=$((_n + 1))
		pid_alive "$_pf" && continue
		(
			set -a
			. "$var/dev.env"
			set +a
			exec "$bin" dispatch >> "$var/log/wadesk.log" 2>&1
		) &
		echo $! > "$_pf"
		sleep 0.2
		pid_alive "$_pf" ||
		    die "wadesk dispatch exited; see $var/log/wadesk.log"
	done
}

# The pools beyond the first (their PID files), whatever WADESK_POOLS is now.
pools_stop() {
	for _f in "$var"/pids/serve-*.pid "$var"/pids/dispatch-*.pid; do
		[ -f "$_f" ] || continue
		_f=${_f##*/}
		stop_pid "${_f%.pid}"
	done
}

# nginx's upstream servers: WADESK_UPSTREAMS (FastCGI addresses separated
# by spaces: unix socket paths, unix:PATH or host:port), else the sockets
# of the stack's own pools.
upstream_lines() {
	_ups=${WADESK_UPSTREAMS:-}
	if [ -z "$_ups" ]; then
		_n=1
		while [ $_n -le $pools ]; do
			_ups="$_ups $(pool_sock $_n)"
			_n=$((_n + 1))
		done
	fi
	for _u in $_ups; do
		case $_u in
		/*) _u=unix:$_u ;;
		esac
		printf 'server %s max_fails=1 fail_timeout=5s; ' "$_u"
	done
}

# Starts nginx; when it runs already with another configuration (e.g.
# other WADESK_UPSTREAMS), checks the new one and reloads it in place.
nginx_start() {
	command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] ||
	    die "nginx is not installed (run: make deps)"
	user_line=""
	[ "$(id -u)" = 0 ] && user_line="user $web_user $web_group;"
	sed -e "s#@USER_LINE@#$user_line#" \
	    -e "s#@PID@#$var/pids/nginx.pid#" \
	    -e "s#@ERROR_LOG@#$var/log/nginx-error.log#" \
	    -e "s#@ACCESS_LOG@#$var/log/nginx-access.log#" \
	    -e "s#@TMP@#$run/nginx-tmp#g" -e "s#@UPSTREAM@#$(upstream_lines)#" \
	    -e "s#@LISTEN@#127.0.0.1:$http_port#" -e "s#@TOP@#$top#g" \
	    -e "s#@STATIC@#$run/static#g" \
	    "$top/nginx/nginx.conf.in" > "$var/nginx.conf.new"
	if pid_alive "$var/pids/nginx.pid"; then
		if cmp -s "$var/nginx.conf.new" "$var/nginx.conf"; then
			rm -f "$var/nginx.conf.new"
			return 0
		fi
		/usr/sbin/nginx -p "$var/nginx" -e "$var/log/nginx-error.log" \
		    -c "$var/nginx.conf.new" -t -q ||
		    die "nginx configuration invalid; nginx keeps the old one"
		mv "$var/nginx.conf.new" "$var/nginx.conf"
		/usr/sbin/nginx -p "$var/nginx" -e "$var/log/nginx-error.log" \
		    -c "$var/nginx.conf" -s reload ||
		    die "nginx did not reload; see $var/log/nginx-error.log"
		return 0
	fi
	mv "$var/nginx.conf.new" "$var/nginx.conf"
	# The admin stylesheet: nginx's workers (nobody) cannot read a
	# checkout under /root, so they serve a copy from the shared run dir.
	# File by file into a fresh folder of ours (no recursive chmod).
	rm -rf "$run/static"
	mkdir -m 755 "$run/static"
	for f in "$top"/app/static/*; do
		[ -f "$f" ] && install -m 644 "$f" "$run/static/"
	done
	mkdir -p "$var/nginx"
	/usr/sbin/nginx -p "$var/nginx" -e "$var/log/nginx-error.log" \
	    -c "$var/nginx.conf" -t -q || die "nginx configuration invalid"
	/usr/sbin/nginx -p "$var/nginx" -e "$var/log/nginx-error.log" \
	    -c "$var/nginx.conf" || die "nginx did not start; see $var/log/nginx-error.log"
	i=0
	until curl -fsS -o /dev/null "http://127.0.0.1:$http_port/healthz"; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "the stack does not answer on :$http_port"
		sleep 0.1
	done
}

stop_pid() {
	f=$var/pids/$1.pid
	if pid_alive "$f"; then
		kill -TERM "$(cat "$f")" 2>/dev/null || true
		i=0
		while pid_alive "$f" && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		pid_alive "$f" && kill -KILL "$(cat "$f")" 2>/dev/null
	fi
	rm -f "$f"
}

start_all() {
	prepare_dirs
	if [ -n "$ext_url" ]; then
		: > "$var/db.external"
		secrets
	else
		rm -f "$var/db.external"
		pg_start
	fi
	app_setup
	app_start
	dispatch_start
	nginx_start
}

# stop_all [stop]: nginx finishes the requests in flight (quit), or, with
# stop, closes them at once (Ctrl-C: nothing waits for a request stuck on
# an unreachable database).
stop_all() {
	# nginx writes its own PID file; the others are ours.
	if pid_alive "$var/pids/nginx.pid"; then
		/usr/sbin/nginx -p "$var/nginx" -e "$var/log/nginx-error.log" \
		    -c "$var/nginx.conf" -s "${1:-quit}" 2>/dev/null || true
		i=0
		while pid_alive "$var/pids/nginx.pid" && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		stop_pid nginx
	fi
	stop_pid dispatch
	stop_pid serve
	pools_stop
	# A database given in WADESK_DATABASE_URL is not ours to stop.
	[ -f "$var/db.external" ] || pg_stop
}

banner() {
	cat <<MSG

  wadesk is running.

    URL        http://127.0.0.1:$http_port/
    API key    $WADESK_API_KEY
    Admin      $WADESK_ADMIN_USER / $WADESK_ADMIN_PASSWORD   (http://127.0.0.1:$http_port/admin/)
    Number     ${business_number:-none}   (the business number: the default sender)
    Settings   $var/dev.env   (. $var/dev.env to use them in a shell)
    Logs       $var/log/

  Try:  curl -s -H "Authorization: Bearer \$WADESK_API_KEY" http://127.0.0.1:$http_port/api/messages/

  Ctrl-C stops everything.
MSG
}

case $cmd in
run)
	# make exits at Ctrl-C without waiting for us, and the terminal may
	# close: no signal may cut the stop short.
	trap 'trap "" HUP INT TERM; trap - EXIT; say "stack: stopping";
	    stop_all stop; exit 0' HUP INT TERM EXIT
	start_all
	banner
	# Stay in the foreground while the pool and the dispatcher run.
	while pid_alive "$var/pids/serve.pid" &&
	    pid_alive "$var/pids/dispatch.pid"; do
		sleep 1
	done
	say "stack: a wadesk process exited; see $var/log/wadesk.log"
	;;
start)
	start_all
	;;
stop)
	stop_all
	;;
reset)
	stop_all
	# Only a folder of ours (or the database user's, from an earlier
	# version of this script); rm does not follow links inside it.
	if [ -d "$shared" ] && [ ! -L "$shared" ]; then
		owner=$(stat -c %u "$shared")
		if [ "$owner" = "$(id -u)" ] || { [ "$(id -u)" = 0 ] &&
		    [ "$owner" = "$(id -u postgres 2>/dev/null)" ]; }; then
			rm -rf "$shared"
		else
			say "stack: $shared belongs to another user; left alone"
		fi
	fi
	rm -f "$var/secrets.env" "$var/dev.env" "$var/pg" "$var/run"
	;;
pg)
	[ $# -ge 3 ] || usage
	[ -z "$ext_url" ] && [ ! -f "$var/db.external" ] ||
	    die "the database is WADESK_DATABASE_URL's, not this stack's"
	case $3 in
	stop) pg_stop immediate ;;
	start) pg_start ;;
	restart) pg_stop immediate; pg_start ;;
	*) usage ;;
	esac
	;;
*)
	usage
	;;
esac
