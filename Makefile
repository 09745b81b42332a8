# Crucible's two commands: `make run` builds the host and runs the bundled
# suite offline, on the plugins pinned in suites/crucible.lock; `make test`
# runs every test. CI runs `.ci/run`.

CARGO ?= cargo
GUEST_TARGET := wasm32-wasip2
# Guests get their own target directory so that building them never waits
# on (or invalidates) the host's build.
GUEST_DIR := target/guests
PLUGINS := blackmail-scenario blackmail-classifier leaking-scenario leaking-classifier \
	lethal-action-scenario lethal-action-classifier eval-awareness-classifier deliberation-classifier
FIXTURES := hostile-scenario hostile-classifier networking-scenario sleepy-scenario \
	typed-scenario typed-classifier

# The componentizers for Python and JavaScript plugins, pinned in
# toolchains/ (see toolchains/README.md).
PY_TOOLCHAIN := toolchains/python/.venv
JS_TOOLCHAIN := toolchains/js/node_modules
# The pinned Inspect AI that reads `crucible export --format inspect` back.
INSPECT_VENV := tests/inspect/.venv
# The pinned moto server, a real S3 on 127.0.0.1 for the object storage tests.
S3_VENV := tests/s3/.venv

.PHONY: run test lint fuzz fuzz-host setup toolchains browser inspect s3 plugins fixtures host bench publish-bundled clean

run: host
	./target/release/crucible run

test: setup toolchains browser inspect s3 plugins fixtures
	$(CARGO) test --release --workspace

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

# Fuzzing (fuzz/, see the README's Development section): cargo-fuzz,
# pinned, installed under target/tools, on the stable toolchain (no
# sanitizer: that needs nightly). Each target runs FUZZ_SECONDS from its
# seeds (fuzz/seeds/TARGET) and what earlier runs found (target/fuzz-corpus);
# a crash is written to target/fuzz-artifacts/TARGET/ and fails the run.
# `fuzz` runs the four targets that do not need the engine crate (CI runs
# it); `fuzz-host` the two that do, whose instrumented build compiles
# wasmtime and cranelift too.
CARGO_FUZZ_VERSION := 0.13.1
FUZZ_TOOLS := target/tools
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := lockfile index_record judge_answer text_protocol
FUZZ_HOST_TARGETS := suite_manifest bundle
FUZZ_RUN = PATH="$(CURDIR)/$(FUZZ_TOOLS)/bin:$$PATH" $(CARGO) fuzz run --sanitizer none \
	--fuzz-dir fuzz

$(FUZZ_TOOLS)/bin/cargo-fuzz:
	$(CARGO) install --locked --root $(FUZZ_TOOLS) cargo-fuzz@$(CARGO_FUZZ_VERSION)

fuzz: $(FUZZ_TOOLS)/bin/cargo-fuzz
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p target/fuzz-corpus/$$t target/fuzz-artifacts/$$t && \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s" && \
		$(FUZZ_RUN) $$t target/fuzz-corpus/$$t fuzz/seeds/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -artifact_prefix=target/fuzz-artifacts/$$t/ \
			-rss_limit_mb=2048 -print_final_stats=1 || exit 1; \
	done

fuzz-host: $(FUZZ_TOOLS)/bin/cargo-fuzz
	@for t in $(FUZZ_HOST_TARGETS); do \
		mkdir -p target/fuzz-corpus/$$t target/fuzz-artifacts/$$t && \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s" && \
		$(FUZZ_RUN) --features host $$t target/fuzz-corpus/$$t fuzz/seeds/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -artifact_prefix=target/fuzz-artifacts/$$t/ \
			-rss_limit_mb=2048 -print_final_stats=1 || exit 1; \
	done

bench: setup plugins
	$(CARGO) bench -p crucible --bench sample_cost
	$(CARGO) bench -p crucible --bench throughput
	$(CARGO) bench -p crucible --bench registry_load

setup:
	@command -v rustup >/dev/null || { echo "rustup is needed to add the $(GUEST_TARGET) target: https://rustup.rs"; exit 1; }
	@rustup target list --installed | grep -qx $(GUEST_TARGET) || rustup target add $(GUEST_TARGET)

toolchains: $(PY_TOOLCHAIN)/bin/componentize-py $(JS_TOOLCHAIN)/.bin/componentize-js

$(PY_TOOLCHAIN)/bin/componentize-py: toolchains/python/requirements.txt
	@command -v python3 >/dev/null || { echo "Python 3.11 or later is needed for the Python plugin toolchain"; exit 1; }
	python3 -m venv $(PY_TOOLCHAIN)
	$(PY_TOOLCHAIN)/bin/pip install --quiet --disable-pip-version-check -r toolchains/python/requirements.txt
	@touch $@

$(JS_TOOLCHAIN)/.bin/componentize-js: toolchains/js/package.json toolchains/js/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20 or later (with npm) is needed for the JavaScript plugin toolchain"; exit 1; }
	cd toolchains/js && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The HTML report's browser test: Debian's Chromium (apt-get, as root: CI
# runs so) and playwright-core, pinned in tests/browser, which drives it and
# downloads no browser of its own.
CHROMIUM := /usr/bin/chromium
BROWSER_MODULES := tests/browser/node_modules

browser: $(BROWSER_MODULES)/playwright-core/package.json
	@test -x $(CHROMIUM) || { apt-get update && apt-get install -y --no-install-recommends chromium; } \
		|| { echo "Chromium is needed for the report's browser test: apt-get install chromium (as root)"; test -z "$$CI"; }

$(BROWSER_MODULES)/playwright-core/package.json: tests/browser/package.json tests/browser/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20 or later (with npm) is needed for the report's browser test"; exit 1; }
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

inspect: $(INSPECT_VENV)/bin/inspect

$(INSPECT_VENV)/bin/inspect: tests/inspect/requirements.txt
	@command -v python3 >/dev/null || { echo "Python 3.11 or later is needed for the Inspect AI export test"; exit 1; }
	python3 -m venv $(INSPECT_VENV)
	$(INSPECT_VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/inspect/requirements.txt
	@touch $@

s3: $(S3_VENV)/bin/moto_server

$(S3_VENV)/bin/moto_server: tests/s3/requirements.txt
	@command -v python3 >/dev/null || { echo "Python 3.11 or later is needed for the object storage tests (moto)"; exit 1; }
	python3 -m venv $(S3_VENV)
	$(S3_VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/s3/requirements.txt
	@touch $@

plugins:
	$(CARGO) build --release --target $(GUEST_TARGET) --target-dir $(GUEST_DIR) $(addprefix -p ,$(PLUGINS))

fixtures:
	$(CARGO) build --release --target $(GUEST_TARGET) --target-dir $(GUEST_DIR) $(addprefix -p ,$(FIXTURES))

host:
	$(CARGO) build --release -p crucible

# After changing a bundled plugin (and bumping its version): publish the
# new builds into the suite's registry and move the lockfile's pins.
publish-bundled: setup plugins host
	for plugin in $(PLUGINS); do \
		wasm=$(GUEST_DIR)/$(GUEST_TARGET)/release/$$(echo $$plugin | tr - _).wasm; \
		./target/release/crucible publish $$wasm --registry suites/registry \
			--license Apache-2.0 --repository https://github.com/crucible-eval/crucible \
			|| true; \
	done
	./target/release/crucible update suites/agentic-misalignment.toml

clean:
	$(CARGO) clean
