#!/usr/bin/env bash
# A real single-node Ceph from Debian's packages (issue 20), no cephadm: one mon on 127.0.0.1, one mgr, one
# BlueStore OSD on a sparse file (no loop device), cephx on, pools of size 1 with 8 PGs, and the RADOS Gateway
# (S3) on loopback with an S3 user. Idempotent: what runs is left running, what is made is not made again.
# Every daemon runs as this user from the folder's own config, keyrings, sockets, logs and PID files, so several
# clusters can share a machine on different ports; hack/ceph-down.sh stops them in order.
#
#   hack/ceph-up.sh [DIR]     (DIR: CEPH_DIR, default .stratus/ceph)
#   CEPH_MON_PORT (6789; msgr v1) CEPH_MON_V2_PORT (3300) CEPH_RGW_PORT (7480) CEPH_OSD_SIZE_GIB (10): used when
#   the cluster is made; a cluster made before keeps its own.
#
# Prints the S3 endpoint, and writes DIR/s3.json ({"endpoint", "accessKeyId", "secretAccessKey"}) and DIR/ceph.conf
# (with DIR/client.admin.keyring) for the ceph, rbd and rados tools: ceph -c DIR/ceph.conf status. For RBD, a pool
# `volumes` and Cinder's user client.cinder (RBD in that pool only) with DIR/client.cinder.keyring.
set -euo pipefail

DIR="$(realpath -m "${1:-${CEPH_DIR:-.stratus/ceph}}")"
MON_PORT="${CEPH_MON_PORT:-6789}"
MON_V2_PORT="${CEPH_MON_V2_PORT:-3300}"
RGW_PORT="${CEPH_RGW_PORT:-7480}"
OSD_SIZE_GIB="${CEPH_OSD_SIZE_GIB:-10}"
CONF="$DIR/ceph.conf"
CEPH=(ceph -c "$CONF" --connect-timeout 20)

for tool in ceph-mon ceph-mgr ceph-osd radosgw radosgw-admin ceph-authtool monmaptool; do
  command -v "$tool" >/dev/null || { echo "ceph-up: $tool is missing: run hack/install-system-packages.sh --ceph" >&2; exit 1; }
done

mkdir -p "$DIR"/{mon/ceph-a,mgr/ceph-x,osd/ceph-0,rgw/ceph-rgw.a,run,log,crash}

# ── configuration, once ───────────────────────────────────────────────────────────────────────────────
if [ ! -f "$CONF" ]; then
  FSID="$(cat /proc/sys/kernel/random/uuid)"
  cat > "$CONF" <<EOF
[global]
fsid = $FSID
mon_host = [v2:127.0.0.1:$MON_V2_PORT,v1:127.0.0.1:$MON_PORT]
public_addr = 127.0.0.1
ms_bind_ipv6 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
run_dir = $DIR/run
admin_socket = $DIR/run/\$cluster-\$name.asok
pid_file = $DIR/run/\$name.pid
log_file = $DIR/log/\$name.log
crash_dir = $DIR/crash
# One OSD: pools of one replica, few PGs, the autoscaler off (RGW's pools stay under the PGs-per-OSD limit).
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_warn_on_pool_no_redundancy = false
# Halves pool creation on one node.
paxos_propose_interval = 0.1
auth_allow_insecure_global_id_reclaim = false
mon_data_avail_warn = 1

[client]
keyring = $DIR/client.admin.keyring

[mon]
mon_data = $DIR/mon/ceph-\$id

[mgr]
mgr_data = $DIR/mgr/ceph-\$id

[osd]
osd_data = $DIR/osd/ceph-\$id
osd_objectstore = bluestore
bluestore_block_path = $DIR/osd/ceph-\$id/block.file
bluestore_block_create = true
bluestore_block_size = $((OSD_SIZE_GIB * 1024 * 1024 * 1024))
# The least it accepts (896 MiB): the OSD's caches shrink to it.
osd_memory_target = 939524096
osd_class_dir = /usr/lib/x86_64-linux-gnu/rados-classes

[client.rgw.a]
rgw_data = $DIR/rgw/ceph-rgw.a
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw_dns_name = 127.0.0.1
keyring = $DIR/rgw/ceph-rgw.a/keyring
EOF
fi
FSID="$(sed -n 's/^fsid = //p' "$CONF")"
# A cluster keeps the ports it was made with (its monmap and config name them): whatever the environment says now.
RGW_PORT="$(sed -n 's/^rgw_frontends = beast endpoint=127\.0\.0\.1://p' "$CONF")"

running() { # name: its PID file names a live process
  local pid
  pid="$(cat "$DIR/run/$1.pid" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}
waitfor() { # what, seconds, command...
  local what="$1" secs="$2"; shift 2
  for _ in $(seq "$((secs * 2))"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "ceph-up: $what did not happen within ${secs}s; see $DIR/log" >&2
  return 1
}

# ── keyrings and the mon, once ─────────────────────────────────────────────────────────────────────────
if [ ! -f "$DIR/mon/ceph-a/store.db/CURRENT" ]; then
  ceph-authtool --create-keyring "$DIR/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool --create-keyring "$DIR/client.admin.keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
  ceph-authtool "$DIR/mon.keyring" --import-keyring "$DIR/client.admin.keyring" >/dev/null
  monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_V2_PORT,v1:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/mon.keyring"
fi
running mon.a || ceph-mon -c "$CONF" -i a
waitfor "the mon answering" 60 "${CEPH[@]}" mon stat
"${CEPH[@]}" health mute POOL_NO_REDUNDANCY --sticky >/dev/null 2>&1 || true
"${CEPH[@]}" health mute MON_DISK_LOW --sticky >/dev/null 2>&1 || true

# ── the mgr ────────────────────────────────────────────────────────────────────────────────────────────
if [ ! -f "$DIR/mgr/ceph-x/keyring" ]; then
  "${CEPH[@]}" auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' > "$DIR/mgr/ceph-x/keyring"
fi
running mgr.x || ceph-mgr -c "$CONF" -i x

# ── the OSD: BlueStore on a sparse file ───────────────────────────────────────────────────────────────
if [ ! -f "$DIR/osd/ceph-0/whoami" ]; then
  OSD_UUID="$(cat /proc/sys/kernel/random/uuid)"
  ID="$("${CEPH[@]}" osd new "$OSD_UUID")"
  [ "$ID" = 0 ] || { echo "ceph-up: expected osd.0, got osd.$ID" >&2; exit 1; }
  ceph-authtool --create-keyring "$DIR/osd/ceph-0/keyring" --gen-key -n osd.0 >/dev/null
  "${CEPH[@]}" auth add osd.0 osd 'allow *' mon 'allow profile osd' mgr 'allow profile osd' -i "$DIR/osd/ceph-0/keyring"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" 2>>"$DIR/log/osd.0.mkfs.log"
fi
running osd.0 || ceph-osd -c "$CONF" -i 0
waitfor "osd.0 up" 120 bash -c "\"\${@}\" osd dump 2>/dev/null | grep -q '^osd.0 up'" _ "${CEPH[@]}"

# ── the RADOS Gateway and its S3 user ─────────────────────────────────────────────────────────────────
if [ ! -f "$DIR/rgw/ceph-rgw.a/keyring" ]; then
  "${CEPH[@]}" auth get-or-create client.rgw.a mon 'allow rw' osd 'allow rwx' mgr 'allow rw' > "$DIR/rgw/ceph-rgw.a/keyring"
fi
running client.rgw.a || radosgw -c "$CONF" -n client.rgw.a
waitfor "the RADOS Gateway answering on 127.0.0.1:$RGW_PORT" 120 curl -sf "http://127.0.0.1:$RGW_PORT/"
if [ ! -f "$DIR/s3.json" ]; then
  radosgw-admin -c "$CONF" user info --uid stratus >/dev/null 2>&1 || radosgw-admin -c "$CONF" user create --uid stratus --display-name "Stratus" >/dev/null
  radosgw-admin -c "$CONF" user info --uid stratus | python3 -c "
import json, sys
k = json.load(sys.stdin)['keys'][0]
print(json.dumps({'endpoint': 'http://127.0.0.1:$RGW_PORT', 'accessKeyId': k['access_key'], 'secretAccessKey': k['secret_key']}))" > "$DIR/s3.json"
  chmod 600 "$DIR/s3.json"
fi

# ── RBD: the `volumes` pool and Cinder's cephx user, limited to RBD in it ──────────────────────────────
# Tests make pools of their own and delete them after: deleting a pool must be allowed (it is not by default).
"${CEPH[@]}" config set mon mon_allow_pool_delete true >/dev/null
if ! "${CEPH[@]}" osd pool ls | grep -qx volumes; then
  "${CEPH[@]}" osd pool create volumes 8 8 >/dev/null 2>&1
  rbd -c "$CONF" pool init volumes
fi
if [ ! -f "$DIR/client.cinder.keyring" ]; then
  "${CEPH[@]}" auth get-or-create client.cinder mon 'profile rbd' osd 'profile rbd pool=volumes' mgr 'profile rbd pool=volumes' > "$DIR/client.cinder.keyring.part"
  chmod 600 "$DIR/client.cinder.keyring.part"
  mv "$DIR/client.cinder.keyring.part" "$DIR/client.cinder.keyring"
fi

waitfor "every placement group active+clean" 120 bash -c "\"\${@}\" pg stat | grep -Eq '^([0-9]+) pgs: \\1 active\\+clean'" _ "${CEPH[@]}"
waitfor "HEALTH_OK" 120 bash -c "\"\${@}\" health | grep -q HEALTH_OK" _ "${CEPH[@]}"
echo "ceph: HEALTH_OK; conf $CONF; S3 (RADOS Gateway) http://127.0.0.1:$RGW_PORT, credentials in $DIR/s3.json"
