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

.PHONY: all deps build vouch test test-unit test-conformance test-asan demo bench fuzz clean

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

# The whole suite again under AddressSanitizer and UndefinedBehaviorSanitizer (CI runs it).
test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DVOUCH_SANITIZE=ON -DVOUCH_BENCH=OFF >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 bash scripts/test.sh $(ASAN_BUILD)

demo: vouch
	@bash scripts/demo.sh $(BUILD)/vouch

bench: build
	@bash scripts/bench.sh $(BUILD)

fuzz: deps
	@CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -gline-tables-only -DNDEBUG" -DVOUCH_FUZZ=ON -DVOUCH_BENCH=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzz_targets
	@FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh build-fuzz

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
