# The image every Stratus process runs from (the chart's image.repository): the built workspace, and the
# Debian tools the node agent calls (virsh for libvirt, qemu-img, mtools and dosfstools for config drives), and
# OVN with Open vSwitch (the chart's ovn-central and ovn-host containers; iproute2 and ethtool for guest taps).
# Ceph RBD volumes: librbd's Python binding (python3-rbd, for Cinder's rbd-io) and QEMU's rbd block driver (qemu-img).
# No container engine runs where Stratus is developed, so this file is written but not built there.
FROM node:24-bookworm-slim AS build
WORKDIR /opt/stratus
COPY . .
RUN npm ci --no-audit --no-fund && npx tsc -b && node hack/dist/bundle.js && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends libvirt-clients qemu-utils mtools dosfstools openvswitch-switch ovn-central ovn-host iproute2 ethtool python3-rbd qemu-block-extra \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/stratus
COPY --from=build /opt/stratus /opt/stratus
USER node
