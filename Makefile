# Crucible's two commands: `make run` sets everything up and runs the bundled
# suite offline; `make test` runs every test. CI runs `.ci/run`.

CARGO ?= cargo
GUEST_TARGET := wasm32-wasip2
# Guests get their own target directory so that building them never waits
# on (or invalidates) the host's build.
GUEST_DIR := target/guests
PLUGINS := blackmail-scenario blackmail-classifier leaking-scenario leaking-classifier \
	lethal-action-scenario lethal-action-classifier eval-awareness-classifier deliberation-classifier
FIXTURES := hostile-scenario hostile-classifier networking-scenario

.PHONY: run test lint setup plugins fixtures host bench clean

run: setup plugins host
	./target/release/crucible run

test: setup plugins fixtures
	$(CARGO) test --release --workspace

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

bench: setup plugins
	$(CARGO) bench -p crucible --bench sample_cost

setup:
	@command -v rustup >/dev/null || { echo "rustup is needed to add the $(GUEST_TARGET) target: https://rustup.rs"; exit 1; }
	@rustup target list --installed | grep -qx $(GUEST_TARGET) || rustup target add $(GUEST_TARGET)

plugins:
	$(CARGO) build --release --target $(GUEST_TARGET) --target-dir $(GUEST_DIR) $(addprefix -p ,$(PLUGINS))

fixtures:
	$(CARGO) build --release --target $(GUEST_TARGET) --target-dir $(GUEST_DIR) $(addprefix -p ,$(FIXTURES))

host:
	$(CARGO) build --release -p crucible

clean:
	$(CARGO) clean
