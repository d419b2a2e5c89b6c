#!/usr/bin/env bash
# make test-ceph: the suites that run against a real Ceph (issue 20), on a single-node cluster started once for
# them in a folder of its own on free ports, and stopped and removed after, whatever happened. Each suite uses
# buckets and pools of its own: Glance's S3 image store against the RADOS Gateway, Cinder's RBD backend against
# RBD (a pool and a cephx user of its own), and `stratus up --ceph` (a cluster of its own) with the image and
# the volume e2e (\`stratus up --ceph-cluster\`, each cloud with a share of its own). The cluster is started once.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="$(mktemp -d /tmp/stratus-ceph-XXXXXX)"
trap 'hack/ceph-down.sh "$DIR" --purge >/dev/null' EXIT
read -r MON V2 RGW < <(python3 -c 'import socket
ss=[socket.socket() for _ in range(3)]
[s.bind(("127.0.0.1",0)) for s in ss]
print(*[s.getsockname()[1] for s in ss])')
started=$(date +%s.%N)
CEPH_MON_PORT=$MON CEPH_MON_V2_PORT=$V2 CEPH_RGW_PORT=$RGW hack/ceph-up.sh "$DIR" 2>"$DIR/up.log" || { cat "$DIR/up.log" >&2; exit 1; }
echo "ceph up in $(python3 -c "print(round($(date +%s.%N) - $started, 1))") s: $(ps -o rss= -C ceph-mon,ceph-mgr,ceph-osd,radosgw | awk '{s+=$1} END {printf "%d MiB", s/1024}') resident"
STRATUS_TEST_S3="$DIR/s3.json" npx mocha --no-config --timeout 120000 --exit operators/glance/dist/test/imageStore.test.js
STRATUS_TEST_CEPH="$DIR" npx mocha --no-config --timeout 240000 --exit operators/cinder/dist/test/rbdPool.test.js
# The cloud itself on Ceph: each e2e's stratus up --ceph-cluster takes a share of this cluster (a pool, a cephx
# user and an RGW tenant of its own), removed with the cloud.
STRATUS_TEST_CEPH="$DIR" npx mocha --no-config --timeout 900000 --exit 'e2e/dist/ceph/*.ceph.js'
# The clouds removed their shares: no pool, cephx user or S3 user of theirs is left in the cluster.
left="$(ceph -c "$DIR/ceph.conf" osd pool ls | grep '^volumes-' || true)$(ceph -c "$DIR/ceph.conf" auth ls 2>/dev/null | grep '^client.cinder-' || true)$(radosgw-admin -c "$DIR/ceph.conf" user list | grep 'stratus_' || true)"
[ -z "$left" ] || { echo "make test-ceph: the clouds left in the cluster: $left" >&2; exit 1; }
echo "make test-ceph: $(python3 -c "print(round($(date +%s.%N) - $started))") s in all; after the suites: $(ps -o rss= -C ceph-mon,ceph-mgr,ceph-osd,radosgw | awk '{s+=$1} END {printf "%d MiB", s/1024}') resident"
