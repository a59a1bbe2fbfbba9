# Entry points for a fresh machine. Every target first runs scripts/bootstrap.sh, which installs
# what is missing (Debian packages, Node 24, npm dependencies with the Kafka client's offline
# build, Kafka jars) into ~/.cache/tickflow and prints the environment to use; repeated runs take
# seconds. Nothing here needs Docker or a cluster.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
BOOTSTRAP := eval "$$(scripts/bootstrap.sh --print-env)"
# The Kubernetes tests' etcd, kube-apiserver, kube-controller-manager, Helm and CRDs, built from the
# Go module proxy into the cache before the tests run: cold that takes 15-30 min, longer than a test
# hook may wait (seen: the operator test's beforeAll timed out at 300 s while the build ran); cached, 0 s.
KUBE_TOOLS := node packages/k8s-harness/src/cli.ts ensure --crds

.PHONY: setup up test test-unit test-integration lint typecheck check generate bench

setup:
	@scripts/bootstrap.sh

up: ## run the whole pipeline on this machine until Ctrl-C
	@$(BOOTSTRAP); exec node apps/cli/bin/tickflow.js up $(ARGS)

test: ## lint, typecheck, unit and integration tests against real Kafka, Redis, PostgreSQL, PGlite-TimescaleDB
	@$(BOOTSTRAP); $(KUBE_TOOLS); status=0; rm -f .tickflow/test-results.json; \
	  { npm run --silent lint && npm run --silent typecheck && \
	    npx vitest run --reporter=default --reporter=json --outputFile.json=.tickflow/test-results.json; } || status=$$?; \
	  [ ! -f .tickflow/test-results.json ] || node scripts/test-summary.ts .tickflow/test-results.json; exit $$status

test-unit:
	@$(BOOTSTRAP); npx vitest run --project unit

test-integration:
	@$(BOOTSTRAP); $(KUBE_TOOLS); npx vitest run --project integration

lint:
	@$(BOOTSTRAP); npm run --silent lint

typecheck:
	@$(BOOTSTRAP); npm run --silent typecheck

generate:
	@$(BOOTSTRAP); npm run --silent generate -w @tickflow/contracts

bench:
	@$(BOOTSTRAP); exec node apps/cli/bin/tickflow.js bench $(ARGS)
