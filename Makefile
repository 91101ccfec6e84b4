# Thin wrapper over CMake. Every target does its own set-up on a fresh machine.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
ifeq ($(CI),true)
CMAKE_FLAGS += -DSCALECTL_WERROR=ON
endif

.PHONY: all deps build test test-release demo install package bench completions clean \
        build-sanitize test-sanitize test-hardened build-fuzz fuzz fuzz-smoke

all: build

deps:
	@bash packaging/install-deps.sh

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

# `make test` is what CI runs: the release suite, the same suites against an ASan+UBSan build, then
# every fuzz target for FUZZ_SMOKE_SECONDS from a fixed libFuzzer seed (FUZZ_SMOKE_SEED), so a red
# CI is reproducible. `make test-hardened` is the older name for the same.
test: test-release test-sanitize fuzz-smoke

test-hardened: test

test-release: build
	@bash tests/contract/install-prism.sh
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900

# Sanitizer build (ASan + UBSan, any report aborts; -O1 -g1, the usual ASan trade-off, compiles
# about a third faster than -O2 -g and keeps file:line in reports) in its own directory; its ctest runs the unit
# tests and the end-to-end suite against that binary with SCALECTL_SANITIZED=1 (see
# tests/support/fixtures.py: race tests use fewer processes and longer waits).
SAN_BUILD_DIR ?= build-asan
$(SAN_BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(SAN_BUILD_DIR) -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g1" \
	  -DSCALECTL_SANITIZE=ON $(CMAKE_FLAGS)

build-sanitize: deps $(SAN_BUILD_DIR)/CMakeCache.txt
	cmake --build $(SAN_BUILD_DIR) -j $(JOBS) --target scalectl unit_tests scalectl_docs scalectl_changelog

test-sanitize: build-sanitize
	cd $(SAN_BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900 -R '^(unit|e2e\.)' -E '^e2e\.test_package$$'

# libFuzzer targets (tests/fuzz, clang): `make fuzz` runs each for FUZZ_SECONDS; CI runs the smoke
# length, FUZZ_SMOKE_SECONDS each.
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_CXX ?= clang++-15
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 30
FUZZ_SMOKE_SEED ?= 1
$(FUZZ_BUILD_DIR)/CMakeCache.txt:
	cmake -S tests/fuzz -B $(FUZZ_BUILD_DIR) -DCMAKE_CXX_COMPILER=$(FUZZ_CXX)

build-fuzz: deps $(FUZZ_BUILD_DIR)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS)

fuzz: build-fuzz
	@bash tests/fuzz/run.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS) $(JOBS)

fuzz-smoke: build-fuzz
	@FUZZ_SEED=$(FUZZ_SMOKE_SEED) bash tests/fuzz/run.sh $(FUZZ_BUILD_DIR) $(FUZZ_SMOKE_SECONDS) $(JOBS)

demo: build
	@bash tests/demo.sh $(BUILD_DIR)/scalectl

bench: build
	@bash tests/bench/run.sh $(BUILD_DIR)/scalectl

install: build
	cmake --install $(BUILD_DIR)

package: build
	cd $(BUILD_DIR) && cpack

clean:
	rm -rf $(BUILD_DIR) $(SAN_BUILD_DIR) $(FUZZ_BUILD_DIR)
