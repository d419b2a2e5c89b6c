# Stratus: `make up` runs the whole cloud on this machine; `make test` runs every test.
SHELL := /bin/bash
STATE ?= .stratus
PORT ?= 6443

.PHONY: deps build generate up test bench clean

node_modules/.installed: package.json $(wildcard */package.json operators/*/package.json)
	npm install --no-audit --no-fund
	@touch $@

deps: node_modules/.installed

build: deps
	npx tsc -b

up: build
	node cli/dist/src/main.js --data-dir $(STATE) --port $(PORT)

generate: build
	node hack/dist/generate.js

# The generated CRDs must match their definitions before anything is tested.
test: build
	node hack/dist/generate.js --check
	npx mocha

bench: build
	node bench/dist/apiserver.bench.js

clean:
	rm -rf node_modules */dist operators/*/dist *.tsbuildinfo */*.tsbuildinfo operators/*/*.tsbuildinfo
