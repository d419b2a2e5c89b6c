#!/usr/bin/env bash
# The Debian packages Stratus uses that npm cannot provide. Installs only what is missing, so it is cheap
# to run before every test run; needs root (or sudo) the first time on a fresh machine. --conformance adds
# what `make conformance` needs, --ceph what `make test-ceph` needs.
set -euo pipefail
# package:command (or /file) that shows it is installed
wanted=(
  "python3-openstackclient:openstack"   # e2e: the real OpenStack CLI
  "qemu-utils:qemu-img"                 # Glance: disk format and virtual size of image data
  "qemu-system-x86:qemu-system-x86_64"  # booting the test disk image (hack/build-test-image.sh)
  "mtools:mcopy"                        # the test image and config drives: FAT images without mounting
  "dosfstools:mkfs.vfat"
  "libvirt-daemon-system:libvirtd"      # Nova's libvirt driver (hack/start-libvirt.sh starts the daemons)
  "libvirt-clients:virsh"
  "libxml2-utils:xmllint"               # virt-xml-validate: domain XML checked against libvirt's own schema
  "openvswitch-switch:ovs-vswitchd"     # networking: each node's switch (userspace datapath)
  "ovn-central:ovn-northd"              # networking: OVN's northbound/southbound databases and northd
  "ovn-host:ovn-controller"             # networking: OVN's agent on each node
  "ethtool:ethtool"                     # guest links: TX checksum offload off, or the userspace datapath drops TCP
  "util-linux:setpriv"                  # OVN's daemons end with the process that started them
  "iputils-ping:ping"                   # e2e: floating IPs pinged from the provider network's namespace
  "chromium:chromium"                   # the dashboard's browser tests (driven by playwright-core)
  "curl:curl"                           # benchmarks: a client that costs next to nothing, for the data paths' ceiling
)
# make conformance: OpenStack's own test suite
[ "${1:-}" = "--conformance" ] && wanted+=("tempest:tempest")
# make test-ceph, hack/ceph-up.sh: a single-node Ceph (mon, mgr, BlueStore OSD, RADOS Gateway), no cephadm
# (Cinder's RBD backend: librbd's Python binding; QEMU's rbd block driver for guests and qemu-img)
[ "${1:-}" = "--ceph" ] && wanted+=("ceph-mon:ceph-mon" "ceph-mgr:ceph-mgr" "ceph-osd:ceph-osd" "radosgw:radosgw" "ceph-common:ceph"
  "python3-rbd:/usr/lib/python3/dist-packages/rbd.cpython-311-x86_64-linux-gnu.so" "qemu-block-extra:/usr/lib/x86_64-linux-gnu/qemu/block-rbd.so")
missing=()
for entry in "${wanted[@]}"; do
  shows="${entry#*:}"
  if [[ "$shows" == /* ]]; then [ -e "$shows" ] || missing+=("${entry%%:*}")
  else command -v "$shows" >/dev/null 2>&1 || missing+=("${entry%%:*}"); fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
