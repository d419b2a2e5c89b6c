#!/usr/bin/python3
"""
The Cinder RBD backend's hands on one Ceph pool, through librbd's own Python binding (python3-rbd, what
Cinder's RBD driver itself uses): Node has no maintained librbd binding, and the rbd command line costs a
process and a cluster connection per call, and cannot read or write at an offset.

One cluster connection per process. Requests come on stdin, one at a time, each a JSON line
({"op": ..., ...arguments, "bytes": N}) followed by N bytes of data when it carries some; each answer is a JSON
line ({"ok": true, "result": ..., "length": N} or {"ok": false, "error": CLASS, "message": ...}) followed by
N bytes when it returns data. Every cluster operation is bounded by the RADOS timeouts, so a Ceph that stops
answering gives an error, never a hang.

    rbd-io.py CONF USER KEYRING POOL TIMEOUT_SECONDS
"""
import json
import sys

import rados
import rbd

conf, user, keyring, pool, timeout = sys.argv[1:6]
stdin, stdout = sys.stdin.buffer, sys.stdout.buffer


def reply(result=None, data=None):
    head = {"ok": True, "result": result}
    if data is not None:
        head["length"] = len(data)
    stdout.write(json.dumps(head).encode() + b"\n")
    if data is not None:
        stdout.write(data)
    stdout.flush()


def fail(error, message):
    stdout.write(json.dumps({"ok": False, "error": error, "message": message}).encode() + b"\n")
    stdout.flush()


cluster = rados.Rados(conffile=conf, rados_id=user, conf={"keyring": keyring})
for key in ("rados_osd_op_timeout", "rados_mon_op_timeout", "client_mount_timeout"):
    cluster.conf_set(key, timeout)
try:
    cluster.connect(timeout=int(timeout))
    ioctx = cluster.open_ioctx(pool)
except rados.Error as e:
    fail(type(e).__name__, "cannot open pool %s as client.%s: %s" % (pool, user, e))
    sys.exit(1)
images = rbd.RBD()


# The image the last reads or writes went to, kept open for the next (a backup or restore walks one image in
# chunks; opening takes the exclusive lock each time). Any other operation closes it first.
held = {"key": None, "image": None}


def opened(name, writable):
    key = (name, writable)
    if held["key"] != key:
        let_go()
        held["image"] = rbd.Image(ioctx, name, read_only=not writable)
        held["key"] = key
    return held["image"]


def let_go():
    if held["image"] is not None:
        try:
            held["image"].close()
        finally:
            held["image"], held["key"] = None, None


def is_zero(data):
    return not data.strip(b"\0")


def snaps_of(name):
    with rbd.Image(ioctx, name, read_only=True) as img:
        return [s["name"] for s in img.list_snaps()]


def remove(name):
    """The image and its snapshots; a missing one is no error."""
    try:
        with rbd.Image(ioctx, name) as img:
            for s in list(img.list_snaps()):
                if img.is_protected_snap(s["name"]):
                    img.unprotect_snap(s["name"])
                img.remove_snap(s["name"])
    except rbd.ImageNotFound:
        return False
    try:
        images.remove(ioctx, name)
    except rbd.ImageNotFound:
        return False
    return True


def pool_stats():
    ret, out, err = cluster.mon_command(json.dumps({"prefix": "df", "format": "json"}), b"", timeout=int(timeout))
    if ret != 0:
        raise rados.Error("ceph df: %s" % err)
    provisioned = 0
    for name in images.list(ioctx):
        try:
            with rbd.Image(ioctx, name, read_only=True) as img:
                provisioned += img.size()
        except rbd.ImageNotFound:
            pass
    for p in json.loads(out)["pools"]:
        if p["name"] == pool:
            return {"maxAvail": p["stats"]["max_avail"], "stored": p["stats"]["stored"], "provisioned": provisioned}
    # A pool made moments ago is not in the mgr's figures yet: the cluster's free space stands in.
    return {"maxAvail": cluster.get_cluster_stats()["kb_avail"] * 1024, "stored": 0, "provisioned": provisioned}


def handle(req, data):
    op, name = req["op"], req.get("name")
    if op not in ("read", "write"):
        let_go()
    if op == "monitors":
        return reply(cluster.conf_get("mon_host"))
    if op == "stats":
        return reply(pool_stats())
    if op == "list":
        out = []
        for n in images.list(ioctx):
            try:
                out.append({"name": n, "snapshots": snaps_of(n)})
            except rbd.ImageNotFound:
                pass
        return reply(out)
    if op == "create":
        images.create(ioctx, name, req["size"], old_format=False)
        return reply()
    if op == "remove":
        return reply(remove(name))
    if op == "rename":
        images.rename(ioctx, name, req["to"])
        return reply()
    if op == "info":
        try:
            with rbd.Image(ioctx, name, read_only=True) as img:
                return reply({"size": img.size(), "snapshots": [s["name"] for s in img.list_snaps()]})
        except rbd.ImageNotFound:
            return reply(None)
    if op == "extents":
        # Whole objects that hold data, from librbd's object map (the diff `rbd export-diff` sends from nothing).
        extents = []
        with rbd.Image(ioctx, name, read_only=True) as img:
            img.diff_iterate(0, img.size(), None, lambda offset, length, exists: exists and extents.append([offset, length]), include_parent=True, whole_object=True)
        return reply(sorted(extents))
    if op == "resize":
        with rbd.Image(ioctx, name) as img:
            if img.size() < req["size"]:
                img.resize(req["size"])
        return reply()
    if op == "snapCreate":
        with rbd.Image(ioctx, name) as img:
            if req["snap"] not in [s["name"] for s in img.list_snaps()]:
                img.create_snap(req["snap"])
        return reply()
    if op == "snapRemove":
        try:
            with rbd.Image(ioctx, name) as img:
                if req["snap"] in [s["name"] for s in img.list_snaps()]:
                    img.remove_snap(req["snap"])
        except rbd.ImageNotFound:
            pass
        return reply()
    if op == "copy":
        # librbd's copy skips zeroed extents: a sparse source stays sparse.
        with rbd.Image(ioctx, name, snapshot=req.get("snap"), read_only=True) as img:
            img.copy(ioctx, req["to"])
        return reply()
    if op == "read":
        img = opened(name, False)
        return reply(None, img.read(req["offset"], req["length"], rados.LIBRADOS_OP_FLAG_FADVISE_SEQUENTIAL))
    if op == "write":
        img = opened(name, True)
        if is_zero(data):
            img.discard(req["offset"], len(data))
        else:
            img.write(data, req["offset"], rados.LIBRADOS_OP_FLAG_FADVISE_SEQUENTIAL)
        return reply()
    if op == "flush":
        if held["image"] is not None:
            held["image"].flush()
        let_go()
        return reply()
    fail("BadRequest", "unknown operation %s" % op)


while True:
    line = stdin.readline()
    if not line:
        break
    req = json.loads(line)
    data = stdin.read(req["bytes"]) if req.get("bytes") else b""
    try:
        handle(req, data)
    except (rbd.Error, rados.Error) as e:
        let_go()
        fail(type(e).__name__, str(e))
    except (KeyError, ValueError, TypeError) as e:
        fail("BadRequest", "%s: %s" % (type(e).__name__, e))
let_go()
ioctx.close()
cluster.shutdown()
