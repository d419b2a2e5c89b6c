#!/usr/bin/env bash
# A cloud's own share of a running cluster made by hack/ceph-up.sh, so that several clouds (make test-ceph's
# suites) use one cluster without seeing each other: an RBD pool `volumes-NAME` with Cinder's user
# `client.cinder-NAME` (RBD in that pool only), and an S3 user in RADOS Gateway tenant NAME, dashes as underscores
# (its buckets are its tenant's: the same bucket names in two clouds do not meet). Idempotent; --remove takes it all away (the
# pool with its images, the users, the S3 user's buckets and objects).
#
#   hack/ceph-share.sh CLUSTER_DIR SHARE_DIR NAME [--remove]
# writes SHARE_DIR/client.cinder.keyring and SHARE_DIR/s3.json ({"endpoint", "accessKeyId", "secretAccessKey"}).
set -euo pipefail
CLUSTER="$(realpath "$1")"
SHARE="$(realpath -m "$2")"
NAME="$3"
CONF="$CLUSTER/ceph.conf"
CEPH=(ceph -c "$CONF" --connect-timeout 20)
[[ "$NAME" =~ ^[a-z0-9-]+$ ]] || { echo "ceph-share: NAME must be lower-case letters, digits and dashes: $NAME" >&2; exit 1; }
POOL="volumes-$NAME"
# RGW's tenant names take letters, digits and underscores only.
TENANT="${NAME//-/_}"

if [ "${4:-}" = --remove ]; then
  "${CEPH[@]}" osd pool delete "$POOL" "$POOL" --yes-i-really-really-mean-it >/dev/null 2>&1 || true
  "${CEPH[@]}" auth del "client.cinder-$NAME" >/dev/null 2>&1 || true
  radosgw-admin -c "$CONF" user rm --tenant "$TENANT" --uid stratus --purge-data >/dev/null 2>&1 || true
  rm -f "$SHARE/client.cinder.keyring" "$SHARE/s3.json"
  echo "ceph-share: $NAME removed from $CLUSTER"
  exit 0
fi

mkdir -p "$SHARE"
if ! "${CEPH[@]}" osd pool ls | grep -qx "$POOL"; then
  "${CEPH[@]}" osd pool create "$POOL" 8 8 >/dev/null 2>&1
  rbd -c "$CONF" pool init "$POOL"
fi
if [ ! -f "$SHARE/client.cinder.keyring" ]; then
  "${CEPH[@]}" auth get-or-create "client.cinder-$NAME" mon 'profile rbd' osd "profile rbd pool=$POOL" mgr "profile rbd pool=$POOL" > "$SHARE/client.cinder.keyring.part"
  chmod 600 "$SHARE/client.cinder.keyring.part"
  mv "$SHARE/client.cinder.keyring.part" "$SHARE/client.cinder.keyring"
fi
if [ ! -f "$SHARE/s3.json" ]; then
  RGW_PORT="$(sed -n 's/^rgw_frontends = beast endpoint=127\.0\.0\.1://p' "$CONF")"
  radosgw-admin -c "$CONF" user info --tenant "$TENANT" --uid stratus >/dev/null 2>&1 || radosgw-admin -c "$CONF" user create --tenant "$TENANT" --uid stratus --display-name "Stratus $NAME" >/dev/null
  radosgw-admin -c "$CONF" user info --tenant "$TENANT" --uid stratus | python3 -c "
import json, sys
k = json.load(sys.stdin)['keys'][0]
print(json.dumps({'endpoint': 'http://127.0.0.1:$RGW_PORT', 'accessKeyId': k['access_key'], 'secretAccessKey': k['secret_key']}))" > "$SHARE/s3.json.part"
  chmod 600 "$SHARE/s3.json.part"
  mv "$SHARE/s3.json.part" "$SHARE/s3.json"
fi
echo "ceph-share: $NAME in $CLUSTER: pool $POOL, client.cinder-$NAME, S3 user $TENANT\$stratus"
