#!/usr/bin/env bash
# Stops the single-node Ceph hack/ceph-up.sh started in DIR, in order, by its PID files: the RADOS Gateway first
# (stopped after the OSD and mon it ignores SIGTERM for 30 s), then the OSD, the mgr and the mon. Its data stays;
# hack/ceph-up.sh starts it again. --purge also removes DIR.
#
#   hack/ceph-down.sh [DIR] [--purge]     (DIR: CEPH_DIR, default .stratus/ceph)
set -euo pipefail

PURGE=0
ARGS=()
for a in "$@"; do
  if [ "$a" = --purge ]; then PURGE=1; else ARGS+=("$a"); fi
done
DIR="$(realpath -m "${ARGS[0]:-${CEPH_DIR:-.stratus/ceph}}")"

stop() { # name
  local pid
  pid="$(cat "$DIR/run/$1.pid" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid"
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  echo "ceph-down: $1 (pid $pid) did not stop in 30 s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

for name in client.rgw.a osd.0 mgr.x mon.a; do stop "$name"; done
if [ "$PURGE" = 1 ]; then rm -rf "$DIR"; fi
echo "ceph: stopped${PURGE:+}$([ "$PURGE" = 1 ] && echo ", $DIR removed")"
