# spotguard — every target installs what it needs by itself.
# Node.js 24 comes from npm (devDependency `node@24`): node_modules/.bin goes first on PATH.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
export SPOTGUARD_CACHE ?= $(HOME)/.cache/spotguard

NODE := $(CURDIR)/node_modules/.bin/node
TEST_FLAGS ?= --test-reporter=spec
UNIT_TESTS := 'test/unit/**/*.test.ts'
INTEGRATION_TESTS := 'test/integration/**/*.test.ts'
E2E_TESTS := 'test/e2e/**/*.test.ts'

.PHONY: all deps build typecheck lint test test-unit test-integration test-e2e bench demo clean help

all: build

help:
	@echo "make demo        a whole interruption on a local real cluster with real Spark"
	@echo "make test        the whole test suite (lint, typecheck, unit, integration, e2e)"
	@echo "make test-unit   fast unit tests only"
	@echo "make bench       benchmarks (JSON figures)"
	@echo "make cluster-up / cluster-down   a local kube-apiserver + etcd + kwok"

deps: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@v=$$($(NODE) --version 2>/dev/null); case "$$v" in v24.*) ;; *) echo "node_modules/.bin/node is '$$v', expected Node.js 24 (npm package node@24)"; exit 1;; esac
	@touch $@

build: typecheck

typecheck: deps
	tsc -p tsconfig.json

lint: deps
	eslint .

test-unit: deps
	$(NODE) --test $(TEST_FLAGS) $(UNIT_TESTS)

include test/harness/k8s/cluster.mk
include test/harness/spark/spark.mk

test-integration: deps k8s-binaries
	$(NODE) --test $(TEST_FLAGS) $(INTEGRATION_TESTS)

test-e2e: deps k8s-binaries spark-env
	$(NODE) --test $(TEST_FLAGS) $(E2E_TESTS)

# The whole suite in one runner invocation, so its closing summary counts every test.
test: lint typecheck k8s-binaries spark-env
	$(NODE) --test $(TEST_FLAGS) $(UNIT_TESTS) $(INTEGRATION_TESTS) $(E2E_TESTS)

bench: deps
	@for f in bench/*.bench.ts; do $(NODE) "$$f" || exit 1; done

demo: deps
	@echo "make demo arrives with the demo issue: a whole interruption on a local real cluster with real Spark."
	@echo "Until then: 'bin/spotguard simulate --provider aws' and 'bin/spotguard probe --metadata-endpoint http://127.0.0.1:1338'."

clean:
	rm -rf node_modules
