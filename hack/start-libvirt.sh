#!/usr/bin/env bash
# Starts libvirt's daemons where no init system does (containers, CI): virtlogd, then libvirtd, each only if
# it is not running, and waits until `virsh -c qemu:///system` answers. Installs libvirt if it is missing.
# Nova's node agent and its tests drive libvirt through this connection.
set -euo pipefail
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! command -v libvirtd >/dev/null 2>&1 || ! command -v virsh >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends libvirt-daemon-system libvirt-clients qemu-system-x86 >/dev/null
fi
# What udev does on a normal host: /dev/kvm for the kvm group, which QEMU's user (libvirt-qemu) is in. Left
# root-only, libvirtd (root) sees KVM but its QEMU probe does not, judges its capability cache stale on every
# call and probes QEMU again: 50-70 s for each `virsh define` instead of 0.02 s (measured).
if [ -c /dev/kvm ] && getent group kvm >/dev/null; then
  $sudo chgrp kvm /dev/kvm && $sudo chmod 660 /dev/kvm
fi
pgrep -x virtlogd >/dev/null || $sudo virtlogd -d
pgrep -x libvirtd >/dev/null || $sudo libvirtd -d
# A fresh, loaded machine takes its time (libvirtd probes QEMU's capabilities before it answers): up to 120 s.
for i in $(seq 1 1200); do
  if virsh -c qemu:///system version >/dev/null 2>&1; then exit 0; fi
  [ $((i % 100)) -eq 0 ] && echo "waiting for libvirtd to answer on qemu:///system ($((i / 10)) s)" >&2
  sleep 0.1
done
echo "libvirtd did not answer on qemu:///system within 120 s (is it running? see: pgrep -a libvirtd)" >&2
exit 1
