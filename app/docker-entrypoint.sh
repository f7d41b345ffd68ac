#!/bin/sh
# Container entry point: migrate (safe to run from every replica: migrations
# take an advisory lock), then the worker pool in the foreground.
set -eu
i=0
until wadesk migrate; do
	i=$((i + 1))
	[ $i -lt 30 ] || { echo "wadesk: database never became ready" >&2; exit 1; }
	sleep 1
done
exec wadesk serve
