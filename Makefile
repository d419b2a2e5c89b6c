# Stratus: `make up` runs the whole cloud on this machine; `make test` runs every test.
SHELL := /bin/bash
STATE ?= .stratus
PORT ?= 6443

.PHONY: deps build up test bench clean

node_modules/.installed: package.json apiserver/package.json operators/runtime/package.json e2e/package.json bench/package.json
	npm install --no-audit --no-fund
	@touch $@

deps: node_modules/.installed

build: deps
	npx tsc -b

up: build
	node apiserver/dist/src/main.js --data-dir $(STATE) --port $(PORT)

test: build
	npx mocha

bench: build
	node bench/dist/apiserver.bench.js

clean:
	rm -rf node_modules */dist operators/*/dist *.tsbuildinfo */*.tsbuildinfo operators/*/*.tsbuildinfo
