#!/bin/sh
# Container entry point: migrate (safe from every replica: migrations take an
# advisory lock), the dispatcher (restarted if it exits), then the worker
# pool in the foreground.  WADESK_ROLE=serve or dispatch runs only one of
# them, for deployments that scale them separately.
set -eu
i=0
until wadesk migrate; do
	i=$((i + 1))
	[ $i -lt 30 ] || { echo "wadesk: database never became ready" >&2; exit 1; }
	sleep 1
done
case ${WADESK_ROLE:-all} in
serve)
	exec wadesk serve ;;
dispatch)
	exec wadesk dispatch ;;
esac
(
	while :; do
		wadesk dispatch || true
		echo "wadesk: dispatcher exited; restarting in 1 s" >&2
		sleep 1
	done
) &
exec wadesk serve
