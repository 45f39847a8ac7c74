# PayDigital Checkout. `make demo` runs the demo shop; `make test` proves everything.
# Both install what is missing first (crates.io, npm and apt only), into a cache folder
# outside the repo, and skip what is already there.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

include tools.env

TOOLS_DIR ?= $(HOME)/.cache/paydigital-checkout
BIN := $(TOOLS_DIR)/bin
NPM_DIR := $(TOOLS_DIR)/npm
export PATH := $(BIN):$(NPM_DIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export TRUNK_SKIP_VERSION_CHECK := true
export TRUNK_OFFLINE := true
export TRUNK_TOOLS_WASM_BINDGEN := $(WASM_BINDGEN_VERSION)
export TRUNK_TOOLS_WASM_OPT := $(WASM_OPT_TRUNK_VERSION)
export CARGO_TERM_COLOR := never
# CI builds once from clean: incremental caches would only take disk (a few GB).
ifeq ($(CI),true)
export CARGO_INCREMENTAL := 0
endif
VENV := $(TOOLS_DIR)/venv
CONTRACT_VENV := $(TOOLS_DIR)/contract-venv
# The API tests' Prometheus parser (tests/api/metrics.rs).
export PAYDIGITAL_PROMETHEUS_PYTHON := $(VENV)/bin/python
export TOOLS_DIR NPM_DIR CONTRACT_VENV QRCODE_JS_VERSION ESBUILD_VERSION TWIGGY_VERSION OHA_VERSION

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Installs those of Debian's packages $(1) that are not there yet.
APT_INSTALL_MISSING = missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
  if [ -n "$$missing" ]; then \
    echo "installing:$$missing"; \
    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
  fi
# A venv at $(1). Debian's own python3 makes one only with its python3-venv package
# (pyenv's and python.org's need none): installed when the first try fails.
MAKE_VENV = { python3 -m venv $(1) 2>/dev/null || { echo "installing: python3-venv"; rm -rf $(1); \
  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv \
  && python3 -m venv $(1); }; }
# WebKit (Safari's engine): WebKitGTK's WebKitWebDriver and MiniBrowser, drawn on Xvfb.
APT_TEST_PACKAGES := chromium chromium-driver firefox-esr webkit2gtk-driver xvfb xauth brotli zbar-tools
# The native tests run the README's PHP snippets (php-curl: create-payment.php uses cURL)
# and read a payment link poster's QR back with zbar.
APT_NATIVE_TEST_PACKAGES := php-cli php-curl zbar-tools

.PHONY: help demo test check setup setup-browsers setup-postgres setup-native-tests setup-contract check-versions widget size fmt lint test-native test-browsers test-e2e test-types test-frameworks test-contract test-medusa bench clean

help:
	@echo "make demo   - set up, build the widget and serve the demo shop with the sandbox on http://127.0.0.1:8080"
	@echo "make test   - set up and run every test (native, Chromium, Firefox, size budget, clippy, fmt)"
	@echo "make check  - the quick loop: fmt, clippy, native tests on SQLite (no PostgreSQL, no browser)"
	@echo "make test-contract - the OpenAPI document validated, a typed client generated from it, then Schemathesis against a sandbox proxy"
	@echo "make test-medusa - the Medusa payment provider: unit tests, then a real Medusa with the sandbox proxy"
	@echo "make bench  - measure size and speed into BENCHMARKS.md"

## Tools -------------------------------------------------------------------------------

setup: check-versions
	@rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@mkdir -p $(BIN)
	@trunk --version 2>/dev/null | grep -q " $(TRUNK_VERSION)$$" \
	  || cargo install --locked --root $(TOOLS_DIR) trunk@$(TRUNK_VERSION)
	@# Not --locked: its lockfile names a crate version the registry no longer has.
	@wasm-bindgen --version 2>/dev/null | grep -q " $(WASM_BINDGEN_VERSION)$$" \
	  || cargo install --root $(TOOLS_DIR) wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)
	@# Debian's binaryen 108 writes wasm that crashes in browsers: npm's is current.
	@wasm-opt --version 2>/dev/null | grep -q "($(WASM_OPT_TRUNK_VERSION))" \
	  || npm install --prefix $(NPM_DIR) --no-audit --no-fund --silent binaryen@$(BINARYEN_VERSION)
	@[ "$$(node -p 'require("$(NPM_DIR)/node_modules/playwright-core/package.json").version' 2>/dev/null)" = "$(PLAYWRIGHT_CORE_VERSION)" ] \
	  || npm install --prefix $(NPM_DIR) --no-audit --no-fund --silent playwright-core@$(PLAYWRIGHT_CORE_VERSION)
	@# The demo shop's backend verifies webhooks with the official standardwebhooks package
	@# (the tests use it too: a signature checked by an implementation other than ours).
	@[ -f examples/shop/node_modules/standardwebhooks/package.json ] \
	  || npm install --prefix examples/shop --no-audit --no-fund --no-package-lock --silent
	@# The dashboard's browser tests: WebDriver (given the machine's drivers; it never
	@# downloads one) and axe-core.
	@[ "$$(node -p 'require("$(NPM_DIR)/node_modules/selenium-webdriver/package.json").version' 2>/dev/null)" = "$(SELENIUM_WEBDRIVER_VERSION)" ] \
	  || npm install --prefix $(NPM_DIR) --no-audit --no-fund --silent selenium-webdriver@$(SELENIUM_WEBDRIVER_VERSION)
	@[ "$$(node -p 'require("$(NPM_DIR)/node_modules/axe-core/package.json").version' 2>/dev/null)" = "$(AXE_CORE_VERSION)" ] \
	  || npm install --prefix $(NPM_DIR) --no-audit --no-fund --silent axe-core@$(AXE_CORE_VERSION)
	@# tsc --strict over the widget's .d.ts (make test-types).
	@[ "$$(node -p 'require("$(NPM_DIR)/node_modules/typescript/package.json").version' 2>/dev/null)" = "$(TYPESCRIPT_VERSION)" ] \
	  || npm install --prefix $(NPM_DIR) --no-audit --no-fund --silent typescript@$(TYPESCRIPT_VERSION)
	@# Minifies the widget's JS in Trunk's post-build hook.
	@[ "$$(node -p 'require("$(NPM_DIR)/node_modules/esbuild/package.json").version' 2>/dev/null)" = "$(ESBUILD_VERSION)" ] \
	  || npm install --prefix $(NPM_DIR) --no-audit --no-fund --silent esbuild@$(ESBUILD_VERSION)

# wasm-bindgen-cli must be the exact version the widget links against.
check-versions:
	@locked=$$(awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/version = |"/, ""); print }' Cargo.lock); \
	if [ "$$locked" != "$(WASM_BINDGEN_VERSION)" ]; then \
	  echo "tools.env pins wasm-bindgen $(WASM_BINDGEN_VERSION) but Cargo.lock has $$locked: update tools.env" >&2; exit 1; \
	fi

setup-browsers:
	@$(call APT_INSTALL_MISSING,$(APT_TEST_PACKAGES))
	@geckodriver --version 2>/dev/null | grep -q "^geckodriver $(GECKODRIVER_VERSION)" \
	  || cargo install --locked --root $(TOOLS_DIR) geckodriver@$(GECKODRIVER_VERSION)

# What the native tests run besides Rust: PHP for the README's PHP snippets (Debian's), and
# Python's prometheus_client to parse /metrics as Prometheus does (a pinned venv).
setup-native-tests:
	@$(call APT_INSTALL_MISSING,$(APT_NATIVE_TEST_PACKAGES))
	@[ "$$($(VENV)/bin/python -c 'import importlib.metadata as m; print(m.version("prometheus-client"))' 2>/dev/null)" = "$(PROMETHEUS_CLIENT_PY_VERSION)" ] \
	  || { $(call MAKE_VENV,$(VENV)) && $(VENV)/bin/pip install --quiet --disable-pip-version-check prometheus-client==$(PROMETHEUS_CLIENT_PY_VERSION); }

# The contract tests' Python tools (PyPI), pinned in tools.env, in a venv of their own.
setup-contract: setup-native-tests
	@# A venv that failed half-way has a python but no pip: made again.
	@[ -x $(CONTRACT_VENV)/bin/pip ] || { rm -rf $(CONTRACT_VENV); $(call MAKE_VENV,$(CONTRACT_VENV)); }
	@$(CONTRACT_VENV)/bin/pip show schemathesis 2>/dev/null | grep -qx "Version: $(SCHEMATHESIS_VERSION)" \
	  && $(CONTRACT_VENV)/bin/pip show openapi-spec-validator 2>/dev/null | grep -qx "Version: $(OPENAPI_SPEC_VALIDATOR_VERSION)" \
	  || $(CONTRACT_VENV)/bin/pip install --quiet --disable-pip-version-check \
	       schemathesis==$(SCHEMATHESIS_VERSION) openapi-spec-validator==$(OPENAPI_SPEC_VALIDATOR_VERSION)

# The tests' PostgreSQL 15: Debian's server package (scripts/postgres.sh runs a throwaway
# cluster from it, with TLS on: openssl makes its certificates).
setup-postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing: postgresql"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql; }
	@# The test cluster's TLS certificate is made with openssl.
	@command -v openssl >/dev/null || { \
	  echo "installing: openssl"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openssl; }

## Build and run -----------------------------------------------------------------------

widget: setup
	trunk build index.html --release

size: widget
	scripts/size-check.sh

# The demo's merchant key and webhook secret: for the sandbox only, never for a live proxy.
DEMO_MERCHANT_KEY := demo-merchant-key-sandbox-only-0123456789
DEMO_WEBHOOK_SECRET := whsec_6lVivdF9r+kMuycmtZoFMVcgrruxW/mwu6KNlJJPFBY=

demo: widget
	cargo build --release -p paydigital-proxy
	@echo
	@echo "Demo shop:  http://127.0.0.1:8080/   (Ctrl-C to stop)"
	@echo "Sandbox:    http://127.0.0.1:8080/sandbox  (pay or expire payments there)"
	@echo "Shop server with a cart (examples/shop): http://127.0.0.1:8081/"
	@echo
	@# The shop's backend beside the proxy; both stop with Ctrl-C.
	CHECKOUT_MERCHANT_KEY=$(DEMO_MERCHANT_KEY) CHECKOUT_WEBHOOK_SECRET=$(DEMO_WEBHOOK_SECRET) \
	  PROXY_URL=http://127.0.0.1:8080 SHOP_LISTEN=127.0.0.1:8081 \
	  node examples/shop/server.mjs & shop=$$!; trap 'kill $$shop 2>/dev/null' EXIT; \
	CHECKOUT_MERCHANT_KEY=$(DEMO_MERCHANT_KEY) CHECKOUT_PUBLIC_URL=http://127.0.0.1:8080 \
	  CHECKOUT_ALLOWED_ORIGINS=http://127.0.0.1:8081 \
	  CHECKOUT_WEBHOOK_URL=http://127.0.0.1:8081/webhooks/paydigital \
	  CHECKOUT_WEBHOOK_SECRET=$(DEMO_WEBHOOK_SECRET) \
	  target/release/paydigital-proxy serve --sandbox --listen 127.0.0.1:8080

## Tests -------------------------------------------------------------------------------

fmt:
	cargo fmt --all -- --check

lint: setup
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown -p paydigital-checkout -p paydigital --all-targets -- -D warnings

# Every native test, with a throwaway PostgreSQL 15 cluster (started here, removed at the
# end, also on failure): the store suite runs on both stores, the API tests run once on
# SQLite and once more on PostgreSQL, and the scale-out test runs three proxies on it — alone,
# since it bounds timings that other tests running beside it on two cores would stretch.
test-native: setup-postgres setup-native-tests
	@env=$$(scripts/postgres.sh start) \
	  || { echo "make test: cannot start PostgreSQL (above); the PostgreSQL tests cannot run" >&2; exit 1; }; \
	eval "$$env"; trap 'scripts/postgres.sh stop "$$PAYDIGITAL_PG_DIR"' EXIT; \
	cargo test --workspace -- --skip scale_out::; \
	cargo test -p paydigital-proxy --test api -- scale_out:: --test-threads 1; \
	PAYDIGITAL_TEST_BACKEND=postgres cargo test -p paydigital-proxy --test api -- admin:: browser:: counter:: merchant:: metrics:: webhooks:: links:: receipts:: \
	  --skip merchant::the_readme_

# The inner loop while working: formatting, clippy on native targets, and every native test
# that needs neither PostgreSQL nor a browser (the store suite on SQLite, the API on SQLite).
check: setup-native-tests
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --workspace -- --skip postgres --skip migrate::

test-browsers: setup setup-browsers widget
	scripts/browser-tests.sh

# As a shopper: Chromium through the demo shop, QR decoded by zbarimg; as the shop's people:
# the dashboard in Chromium and Firefox with axe-core (e2e/).
test-e2e: setup setup-browsers widget
	cargo build -p paydigital-proxy
	NODE_PATH=$(NPM_DIR)/node_modules node --test e2e/

# The OpenAPI document against the running code: validated, a TypeScript client generated
# from it and run under tsc --strict (tests/typed-client), then Schemathesis with every check
# over the merchant and browser APIs of a sandbox proxy (scripts/contract-tests.sh).
TYPED_CLIENT_DIR := tests/typed-client
# npm ci only when node_modules is missing or the lockfile changed (the stamp).
$(TYPED_CLIENT_DIR)/node_modules/.paydigital-npm-ci: $(TYPED_CLIENT_DIR)/package-lock.json $(TYPED_CLIENT_DIR)/package.json
	cd $(TYPED_CLIENT_DIR) && npm ci --prefer-offline --no-audit --no-fund
	touch $@

test-contract: setup-contract $(TYPED_CLIENT_DIR)/node_modules/.paydigital-npm-ci
	scripts/contract-tests.sh

# The Medusa payment provider (integrations/medusa): its unit tests, and a real Medusa 2.21 on
# a throwaway PostgreSQL beside the sandbox proxy (issue 25). npm ci runs only when
# node_modules is missing or the lockfile changed (the stamp); the cluster is stopped on exit,
# also on failure.
MEDUSA_DIR := integrations/medusa
$(MEDUSA_DIR)/node_modules/.paydigital-npm-ci: $(MEDUSA_DIR)/package-lock.json $(MEDUSA_DIR)/package.json
	cd $(MEDUSA_DIR) && npm ci --prefer-offline --no-audit --no-fund
	touch $@

test-medusa: setup-postgres $(MEDUSA_DIR)/node_modules/.paydigital-npm-ci
	cargo build -p paydigital-proxy
	cd $(MEDUSA_DIR) && npm run typecheck && npm run build && npm run test:unit
	@env=$$(scripts/postgres.sh start) \
	  || { echo "make test-medusa: cannot start PostgreSQL (above)" >&2; exit 1; }; \
	eval "$$env"; trap 'scripts/postgres.sh stop "$$PAYDIGITAL_PG_DIR"' EXIT; \
	(cd $(MEDUSA_DIR) && MEDUSA_DISABLE_TELEMETRY=true npm run test:integration)

# The widget's types (issue 33): tsc --strict on a typed use and on wrong uses that must not
# compile (each marked @ts-expect-error), and the error-code table against the .d.ts union.
test-types: setup
	tsc -p tests/types
	node --test tests/types/

# The framework examples (issue 33): examples/react (React 19 + Vite, StrictMode, built in
# development mode so effects mount twice) and examples/vue (Vue 3 + Vite), built and driven in
# Chromium against a sandbox proxy (examples/frameworks.test.cjs). npm ci runs only when
# node_modules is missing or the lockfile changed (the stamp).
EXAMPLES_NPM := examples/react examples/vue
$(addsuffix /node_modules/.paydigital-npm-ci,$(EXAMPLES_NPM)): %/node_modules/.paydigital-npm-ci: %/package-lock.json %/package.json
	cd $* && npm ci --prefer-offline --no-audit --no-fund
	touch $@

test-frameworks: setup setup-browsers widget $(addsuffix /node_modules/.paydigital-npm-ci,$(EXAMPLES_NPM))
	cargo build -p paydigital-proxy
	cd examples/react && npm run build
	cd examples/vue && npm run build
	NODE_PATH=$(NPM_DIR)/node_modules node --test examples/frameworks.test.cjs

test: setup setup-browsers fmt lint test-native test-contract size test-types test-browsers test-e2e test-frameworks test-medusa
	@echo "make test: all passed"

bench: setup setup-browsers widget
	scripts/bench.sh

clean:
	cargo clean
	rm -rf dist
