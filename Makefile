# Stratus: `make up` runs the whole cloud on this machine; `make test` runs every test.
SHELL := /bin/bash
# The project's own Node.js 24 LTS (the `node` dev dependency, npm's official Node package): once `npm install`
# has put it in node_modules/.bin, every node, npx and npm below runs on it, whatever Node the machine has.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
STATE ?= .stratus
PORT ?= 6443
API_PORT ?= 8000
S3_PORT ?= 9000
# free: the services behind the gateway take free ports (two clouds can share the machine); fixed: their usual
# ones (5000, 9292, 8774, 8790).
SERVICE_PORTS ?= free
# Web servers on loopback or a private network that image imports may reach (host[:port],…); none by default.
IMAGE_IMPORT_ALLOW ?=

.PHONY: deps system-packages libvirt build generate kubeconfig up test test-faults conformance bench bench-keystone bench-glance bench-boot bench-volumes bench-dashboard bench-kubevirt bench-ceph test-ceph ceph-up ceph-down rotate-keys test-image clean

node_modules/.installed: package.json $(wildcard */package.json operators/*/package.json)
	npm install --no-audit --no-fund
	@touch $@

deps: node_modules/.installed

# Debian packages the tests drive (the openstack CLI); installs only what is missing.
system-packages:
	hack/install-system-packages.sh

# libvirt's daemons, where no init system starts them (the compute node's guests run under qemu:///system).
libvirt: system-packages
	hack/start-libvirt.sh

# TypeScript, then the browser code (the dashboard and the console page, bundled by esbuild: hack/bundle.ts).
build: deps
	npx tsc -b
	npx tsc -p operators/horizon/web
	npx tsc -p operators/nova/web
	node hack/dist/bundle.js

# The whole cloud, its compute node included; the test disk image is built for the README's examples.
up: build libvirt test-image
	$(if $(CEPH),hack/install-system-packages.sh --ceph)
	node cli/dist/src/main.js --data-dir $(STATE) --port $(PORT) --api-port $(API_PORT) --s3-port $(S3_PORT) --service-ports $(SERVICE_PORTS) --image-import-allow '$(IMAGE_IMPORT_ALLOW)' $(if $(KUBEVIRT),--kubevirt) $(if $(CEPH),--ceph)

# The small bootable test disk (kernel + busybox initramfs + syslinux) Nova's tests boot: .cache/test-image/
test-image:
	hack/build-test-image.sh

# A status change shown in an open page (real Chromium) beside its delivery to a plain watch; the first page load's size and time.
bench-dashboard: build system-packages
	node bench/dist/dashboard.bench.js $(BENCH_ARGS)

# Image upload/download through the Image API beside direct S3, and Glance's peak RSS: make bench-glance BENCH_ARGS="--sizes 1024 --cpu"
bench-glance: build system-packages
	node bench/dist/glance.bench.js $(BENCH_ARGS)

# Rotates the Fernet keys of the cloud `make up` runs (keystone-manage fernet_rotate).
rotate-keys: build
	KUBECONFIG=$(STATE)/kubeconfig node operators/keystone/dist/src/manage.js fernet-rotate

# A kubeconfig for a project member, signed in through Keystone with a clouds.yaml entry (OS_CLIENT_CONFIG_FILE
# or the usual places): make kubeconfig CLOUD=mycloud [KUBECONFIG_OUT=~/.kube/stratus]
KUBECONFIG_OUT ?= kubeconfig-$(CLOUD)
kubeconfig: build
	node cli/dist/src/login.js --cloud '$(CLOUD)' --from $(STATE)/kubeconfig --kubeconfig '$(KUBECONFIG_OUT)'

generate: build
	node hack/dist/generate.js

# The generated CRDs must match their definitions before anything is tested.
test: build libvirt
	@echo "Node.js $$(node --version) ($$(command -v node))"
	node hack/dist/generate.js --check
	npx mocha

# The fault-injection suite alone (it also runs in `make test`): create/delete cycles under random SIGKILLs, then
# convergence and orphan checks. Replay a run with the seed it printed: make test-faults FAULT_SEED=n [FAULT_CYCLES=n]
test-faults: build libvirt test-image
	FAULT_SEED='$(FAULT_SEED)' FAULT_CYCLES='$(FAULT_CYCLES)' npx mocha --no-config --reporter spec --timeout 0 --exit e2e/dist/faults.e2e.js

# Against a real single-node Ceph (hack/ceph-up.sh, Debian's packages, no cephadm), started for the run and
# removed after: Glance's S3 image store on the RADOS Gateway, Cinder's RBD backend, and the image and volume e2e
# on `stratus up --ceph`. Not part of `make test`.
test-ceph: build libvirt
	hack/install-system-packages.sh --ceph
	hack/test-ceph.sh

# A Ceph of your own in $(STATE)/ceph (CEPH_MON_PORT, CEPH_MON_V2_PORT, CEPH_RGW_PORT): make ceph-up, make ceph-down
ceph-up:
	hack/install-system-packages.sh --ceph
	hack/ceph-up.sh $(STATE)/ceph
ceph-down:
	hack/ceph-down.sh $(STATE)/ceph

# OpenStack's Tempest (Debian's) against a fresh cloud, with dynamic credentials: the interop guideline's
# identity, image and compute tests and the broader API suites, passed/failed/skipped per area and every
# skip's reason. Narrower: make conformance CONFORMANCE_ARGS="--areas identity,image --suites interop"
conformance: build libvirt test-image
	hack/install-system-packages.sh --conformance
	node hack/dist/conformance.js $(CONFORMANCE_ARGS)

bench: build libvirt
	node bench/dist/apiserver.bench.js
	node bench/dist/watchers.bench.js
	node bench/dist/keystone.bench.js
	node bench/dist/glance.bench.js
	node bench/dist/s3.bench.js
	node bench/dist/stalledUploads.bench.js
	node bench/dist/nova.bench.js
	node bench/dist/kubevirt.bench.js
	node bench/dist/ports.bench.js
	node bench/dist/boot.bench.js
	node bench/dist/volumes.bench.js
	node bench/dist/dashboard.bench.js

# On Ceph (issue 20): image upload/download through the Image API beside direct S3 on the RADOS Gateway, and a
# guest's sequential write/read on an RBD volume beside rbd bench on the same image: make bench-ceph
bench-ceph: build libvirt
	hack/install-system-packages.sh --ceph
	node bench/dist/glance.bench.js --ceph --sizes 1024 $(BENCH_ARGS)
	node bench/dist/volumes.bench.js --ceph $(BENCH_ARGS)

# The kubevirt driver alone (KubeVirt played by kubevirt-simulator): make bench-kubevirt BENCH_ARGS="--instances 500"
bench-kubevirt: build
	node bench/dist/kubevirt.bench.js $(BENCH_ARGS)

# Block storage alone: guest I/O on a volume beside its root disk and the host's dd, and volume churn: make bench-volumes BENCH_ARGS="--mib 256"
bench-volumes: build libvirt
	node bench/dist/volumes.bench.js $(BENCH_ARGS)

# Seconds from kubectl apply to ACTIVE and to the guest's marker, beside a bare virsh start: make bench-boot BENCH_ARGS="--rounds 10"
bench-boot: build libvirt
	node bench/dist/boot.bench.js $(BENCH_ARGS)

# Token issue/validate load against any Keystone: make bench-keystone KEYSTONE_URL=http://host:5000/v3 OS_PASSWORD=...
bench-keystone: build
	node bench/dist/keystone.bench.js

clean:
	rm -rf node_modules */dist operators/*/dist *.tsbuildinfo */*.tsbuildinfo operators/*/*.tsbuildinfo
