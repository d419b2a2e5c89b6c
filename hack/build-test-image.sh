#!/usr/bin/env bash
# Builds the Stratus test disk image from Debian packages only: the cloud kernel, a static busybox as the
# initramfs, and syslinux on a FAT disk (no partition table; SeaBIOS boots its volume boot record). On boot
# it prints STRATUS-TEST-IMAGE-BOOTED to the serial console, then what it finds on a cloud-init NoCloud
# config drive (label cidata): instance-id, hostname, and whether user data and an SSH key are there.
# It lists its block devices (STRATUS-DISK name bytes serial=…) and says when one is added, removed or grown.
# It configures eth0 by DHCP when it has a NIC (printing STRATUS-NET with its address), runs user data that
# starts with #! as a shell script in the background (its output on the serial console), and answers the ACPI
# power button by powering off, so a graceful stop works.
#
#   hack/build-test-image.sh [OUT_DIR]   → OUT_DIR/stratus-test.img (raw, ~16 MiB); default .cache/test-image
# Nothing is installed for it but the build tools (syslinux, mtools, dosfstools, cpio); the kernel and busybox
# packages are downloaded and unpacked, never installed. A built image is reused while this script is unchanged.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../.cache/test-image}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
image="$out/stratus-test.img"
stamp="$out/.built-by-$(sha256sum "$0" | cut -c1-16)"
[ -f "$image" ] && [ -f "$stamp" ] && { echo "$image"; exit 0; }

need=()
for entry in syslinux:syslinux mtools:mcopy dosfstools:mkfs.vfat cpio:cpio kmod:depmod; do
  command -v "${entry#*:}" >/dev/null 2>&1 || need+=("${entry%%:*}")
done
[ -f /usr/lib/syslinux/modules/bios/ldlinux.c32 ] || need+=(syslinux-common)
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
kernel_package() { apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'; }
fetch() { local k; k="$(kernel_package)" && [ -n "$k" ] && apt-get download -qq "$k" busybox-static 2>/dev/null && kernel_pkg="$k"; }
# Package lists may be missing or stale (a version gone from the mirror): refresh them once and try again.
fetch || { ${sudo:-} apt-get update -qq && fetch; } || { echo "cannot download the kernel and busybox packages" >&2; exit 1; }
dpkg-deb -x "$kernel_pkg"_*.deb pkg
dpkg-deb -x busybox-static_*.deb pkg
kver="$(ls pkg/lib/modules)"
moddir="pkg/lib/modules/$kver"
depmod -b "$work/pkg" "$kver"   # the package leaves modules.dep to install time

# The initramfs: busybox, the modules a config drive needs (with their dependencies, in load order), /init.
root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,mnt,etc,lib/modules,tmp}
cp pkg/bin/busybox "$root/bin/busybox"
declare -A seen=()
order=()
add_module() {
  local path="$1" dep
  [ -n "${seen[$path]:-}" ] && return
  seen[$path]=1
  for dep in $(awk -F': ' -v m="$path" '$1 == m { print $2 }' "$moddir/modules.dep"); do add_module "$dep"; done
  order+=("$path")
}
for name in virtio_pci virtio_blk virtio_net isofs vfat nls_cp437 nls_iso8859-1 nls_ascii button evdev; do
  path="$(awk -F: -v n="/$name.ko" 'index($1, n) == length($1) - length(n) + 1 { print $1; exit }' "$moddir/modules.dep")"
  [ -n "$path" ] && add_module "$path"
done
for m in "${order[@]}"; do cp "$moddir/$m" "$root/lib/modules/"; basename "$m"; done > "$root/etc/modules"

cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /etc/modules); do insmod "/lib/modules/$m" 2>/dev/null; done
echo "STRATUS-TEST-IMAGE-BOOTED kernel $(uname -r)"
# Every block device and its size (and serial: a volume's ID), so a test sees what disks the guest really has.
disks() { for d in /sys/block/vd* /sys/block/sd*; do [ -e "$d/size" ] && echo "$(basename "$d") $(( $(cat "$d/size") * 512 )) serial=$(cat "$d/serial" 2>/dev/null)"; done; }
disks | sed 's/^/STRATUS-DISK /'
# Disks plugged, unplugged or grown while it runs (hot-plug, online extend) are said as they happen.
(
  disks > /tmp/disks
  while true; do
    sleep 1
    disks > /tmp/disks.now
    awk 'NR == FNR { was[$1] = $0; next } !($1 in was) { print "STRATUS-DISK-ADDED " $0 } ($1 in was) && was[$1] != $0 { print "STRATUS-DISK-RESIZED " $0 } { seen[$1] = 1 } END { for (d in was) if (!(d in seen)) print "STRATUS-DISK-REMOVED " d }' /tmp/disks /tmp/disks.now > /dev/console
    mv /tmp/disks.now /tmp/disks
  done
) &
# A config drive may appear a moment after the modules load.
for i in 1 2 3 4 5 6 7 8 9 10; do
  dev="$(findfs LABEL=cidata 2>/dev/null || findfs LABEL=CIDATA 2>/dev/null || true)"
  [ -n "$dev" ] && break
  sleep 0.3
done
if [ -n "$dev" ] && mount -o ro "$dev" /mnt 2>/dev/null; then
  id="$(sed -n 's/^instance-id: *//p' /mnt/meta-data | tr -d '"')"
  host="$(sed -n 's/^local-hostname: *//p' /mnt/meta-data | tr -d '"')"
  echo "STRATUS-CONFIG-DRIVE instance-id=$id hostname=$host"
  [ -s /mnt/user-data ] && echo "STRATUS-USER-DATA $(head -c 200 /mnt/user-data | grep -v '^#' | head -n 1)"
  [ -s /mnt/user-data ] && cp /mnt/user-data /tmp/user-data
  grep -q 'ssh-' /mnt/meta-data /mnt/user-data 2>/dev/null && echo "STRATUS-SSH-KEY present"
  [ -s /mnt/network_data.json ] && echo "STRATUS-NETWORK-DATA $(head -c 300 /mnt/network_data.json | grep -o '"vif_id": *"[^"]*"' | head -n 1)"
  umount /mnt
else
  echo "STRATUS-CONFIG-DRIVE none"
fi
# A NIC is configured by DHCP (the cloud's DHCP server: OVN's), its address said on the console.
ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
  ip link set eth0 up
  if udhcpc -i eth0 -s /etc/udhcpc.script -q -n -t 10 -T 1 -O mtu >/dev/null 2>&1; then
    echo "STRATUS-NET eth0 $(cat /tmp/eth0.ip) gateway=$(cat /tmp/eth0.router 2>/dev/null) mtu=$(cat /sys/class/net/eth0/mtu)"
  else
    echo "STRATUS-NET eth0 no-lease"
  fi
fi
# User data that is a script runs (as cloud-init's runcmd would), its output on the console.
if head -n 1 /tmp/user-data 2>/dev/null | grep -q '^#!'; then
  (sh /tmp/user-data 2>&1 | sed 's/^/STRATUS-USER-SCRIPT /' > /dev/console) &
fi
# The ACPI power button (virsh shutdown) powers the machine off. READY is said only once acpid holds the
# input device, so a power button pressed right after READY is not lost.
acpid -d -c /etc/acpi >/dev/null 2>&1 &
acpid_pid=$!
for i in $(seq 1 50); do
  ls -l /proc/$acpid_pid/fd 2>/dev/null | grep -q /dev/input/event && break
  sleep 0.1
done
echo "STRATUS-TEST-IMAGE-READY"
while true; do sleep 3600; done
INIT
chmod +x "$root/init"
cat > "$root/etc/udhcpc.script" <<'DHCP'
#!/bin/sh
# udhcpc's hook: the lease's address, route and MTU onto the interface.
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
    echo "$ip" > "/tmp/$interface.ip"
    echo "${router%% *}" > "/tmp/$interface.router"
    ;;
esac
DHCP
chmod +x "$root/etc/udhcpc.script"
mkdir -p "$root/etc/acpi/PWRF"
printf '#!/bin/sh\necho STRATUS-TEST-IMAGE-POWEROFF > /dev/console\npoweroff -f\n' > "$root/etc/acpi/PWRF/00000080"
chmod +x "$root/etc/acpi/PWRF/00000080"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) > initrd.gz

# The disk: FAT without a partition table, syslinux in its boot record, the kernel and initramfs as files.
cp "pkg/boot/vmlinuz-$kver" vmlinuz
size_kib=$(( ( $(stat -c %s vmlinuz) + $(stat -c %s initrd.gz) ) / 1024 + 2048 ))
rm -f disk.img
mkfs.vfat -C -n STRATUS disk.img "$size_kib" >/dev/null
syslinux --install disk.img
printf 'SERIAL 0 115200\nDEFAULT linux\nPROMPT 0\nTIMEOUT 0\nLABEL linux\n  KERNEL vmlinuz\n  APPEND initrd=initrd.gz console=tty0 console=ttyS0 panic=-1 quiet\n' > syslinux.cfg
mcopy -i disk.img vmlinuz initrd.gz syslinux.cfg ::
mv disk.img "$image"
rm -f "$out"/.built-by-*
touch "$stamp"
echo "$image"
