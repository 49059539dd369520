# vouch: the two set-up commands are `make demo` and `make test`; both install what they need.
BUILD ?= build
ASAN_BUILD ?= build-asan
CACHE ?= $(CURDIR)/.cache
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?=
export CCACHE_DIR ?= $(CACHE)/ccache

# Line tables only (-g1): backtraces and profiles keep file:line, and the build takes about a
# third less time than with full debug information.
CMAKE_FLAGS = -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"

.PHONY: all deps build vouch test test-unit test-conformance build-asan test-asan demo bench fuzz clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt cmake/modules.cmake
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

build: deps $(BUILD)/build.ninja
	@cmake --build $(BUILD) -j $(JOBS)

# Only the command-line binary (what the demo runs), not the tests, benchmarks or fuzzers.
vouch: deps $(BUILD)/build.ninja
	@cmake --build $(BUILD) -j $(JOBS) --target vouch

# The command line and the unit tests: what the suite runs (benchmarks build with `make bench`).
test: deps $(BUILD)/build.ninja
	@cmake --build $(BUILD) -j $(JOBS) --target vouch vouch_unit_tests
	@bash scripts/test.sh $(BUILD)

# The sanitized build: clang with AddressSanitizer, UndefinedBehaviorSanitizer and libFuzzer's
# coverage instrumentation, at -O1. The suite runs there under the sanitizers (test-asan) and the
# fuzz targets are built there too (fuzz), so CI compiles the project twice, not three times.
SAN_FLAGS = -G Ninja -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -gline-tables-only" \
  -DVOUCH_SANITIZE=ON -DVOUCH_FUZZ=ON -DVOUCH_BENCH=OFF

$(ASAN_BUILD)/build.ninja: CMakeLists.txt cmake/modules.cmake
	@CXX=clang++ cmake -S . -B $(ASAN_BUILD) $(SAN_FLAGS) >/dev/null

# The sanitized command line, unit tests and fuzz targets.
build-asan: deps $(ASAN_BUILD)/build.ninja
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target vouch vouch_unit_tests fuzz_targets

# The suite again under AddressSanitizer and UndefinedBehaviorSanitizer (CI runs it): the unit
# tests, conformance cases and policy tests whole, and the integration scripts scripts/test.sh
# lists for the sanitized pass (VOUCH_SANITIZED_SCRIPTS=all for every one).
test-asan: build-asan
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 bash scripts/test.sh $(ASAN_BUILD)

demo: vouch
	@bash scripts/demo.sh $(BUILD)/vouch

bench: build
	@bash scripts/bench.sh $(BUILD)

fuzz: deps $(ASAN_BUILD)/build.ninja
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target fuzz_targets
	@FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh $(ASAN_BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
