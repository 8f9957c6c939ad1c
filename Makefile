# pg_llm -- one Makefile for three things:
#   * pg_llm.so and the install script, through PGXS (extension/ + engine + kernels)
#   * the standalone CLI bin/pg_llm and the C unit tests, from engine/, kernels/, cli/
#     and test/unit/ WITHOUT any PostgreSQL include path (a leak breaks the build)
#   * make test / make demo / make bench, driven by scripts in test/ and scripts/
#
# The version lives only in pg_llm.control.

EXTENSION  = pg_llm
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" pg_llm.control)
PG_CONFIG ?= pg_config

ENGINE_SRCS := $(sort $(wildcard kernels/*.c engine/*.c))
CLI_SRCS    := $(sort $(wildcard cli/*.c))
EXT_SRCS    := $(sort $(wildcard extension/*.c))
UNIT_SRCS   := $(sort $(wildcard test/unit/test_*.c))

BUILD       := build
ENGINE_OBJS := $(ENGINE_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS    := $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_BINS   := $(UNIT_SRCS:test/unit/%.c=$(BUILD)/test/%)
ASAN_OBJS   := $(ENGINE_SRCS:%.c=$(BUILD)/asan/%.o)
ASAN_BINS   := $(UNIT_SRCS:test/unit/%.c=$(BUILD)/asan/test/%)

# Engine flags: C11 plus PostgreSQL's own warnings (except the C89-era
# -Wdeclaration-after-statement, which the engine does not follow).
ENGINE_WARN   = -Wall -Wextra -Wmissing-prototypes -Wpointer-arith -Werror=vla \
                -Wendif-labels -Wmissing-format-attribute -Wimplicit-fallthrough=3 \
                -Wformat-security -Wno-unused-parameter
ENGINE_CFLAGS = -std=gnu11 -O2 -g -fPIC -fno-strict-aliasing -fwrapv -pthread \
                $(ENGINE_WARN) -Iinclude -Ikernels -Iengine \
                -DPLLM_VERSION='"$(EXTVERSION)"' -MMD -MP
ENGINE_LIBS   = -ldl -lcjson -lpcre2-8 -lutf8proc -lm -lpthread
ASAN_FLAGS    = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

# ---- extension (PGXS) ----------------------------------------------------
MODULE_big  = pg_llm
OBJS        = $(EXT_SRCS:.c=.o) $(ENGINE_OBJS)
DATA_built  = extension/pg_llm--$(EXTVERSION).sql
DATA        = $(filter-out $(DATA_built),$(wildcard extension/pg_llm--*--*.sql))
PG_CPPFLAGS = -Iinclude -DPLLM_VERSION='"$(EXTVERSION)"'
SHLIB_LINK += $(ENGINE_LIBS)
EXTRA_CLEAN = $(BUILD) bin $(DATA_built)
# Engine objects are built by our own rule below; PGXS would also try to make
# LLVM bitcode from them, which the kernels do not need.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
else
all install:
	@echo "pg_config not found: run 'make demo' as root, or install postgresql-server-dev-15" >&2; exit 1
endif

all: bin/pg_llm

extension/pg_llm--$(EXTVERSION).sql: extension/pg_llm.sql pg_llm.control
	cp $< $@

# ---- engine, CLI and unit tests (no PostgreSQL) ----------------------------
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ENGINE_CFLAGS) -c $< -o $@

$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ENGINE_CFLAGS) $(ASAN_FLAGS) -c $< -o $@

bin/pg_llm: $(CLI_OBJS) $(ENGINE_OBJS)
	@mkdir -p bin
	$(CC) -pthread -o $@ $^ $(ENGINE_LIBS)

$(BUILD)/test/%: test/unit/%.c $(ENGINE_OBJS) test/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(ENGINE_CFLAGS) -Itest/unit -o $@ $< $(ENGINE_OBJS) $(ENGINE_LIBS)

$(BUILD)/asan/test/%: test/unit/%.c $(ASAN_OBJS) test/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(ENGINE_CFLAGS) $(ASAN_FLAGS) -Itest/unit -o $@ $< $(ASAN_OBJS) $(ENGINE_LIBS)

$(BUILD)/bench/%: test/bench/%.c $(ENGINE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ENGINE_CFLAGS) -o $@ $< $(ENGINE_OBJS) $(ENGINE_LIBS)

-include $(wildcard $(BUILD)/*/*.d $(BUILD)/asan/*/*.d $(BUILD)/test/*.d $(BUILD)/asan/test/*.d)

.PHONY: cli unit-bins asan-bins test unit check-asan demo bench deps
cli: bin/pg_llm
unit-bins: $(UNIT_BINS)
asan-bins: $(ASAN_BINS)

# Installs missing Debian packages when run as root (no-op when present).
deps:
	@scripts/ensure-deps.sh

# Unit tests only (no PostgreSQL needed).
unit: unit-bins
	@test/run_unit.sh $(UNIT_BINS)

# Unit tests again under AddressSanitizer + UBSan (parsers, kernels, models).
check-asan: asan-bins
	@test/run_unit.sh $(ASAN_BINS)

# Everything: unit tests, the same under ASan+UBSan, then pg_regress and cluster
# tests on a throwaway cluster. Ends with "N passed, N failed".
test: deps
	$(MAKE) all unit-bins asan-bins
	$(MAKE) install
	@test/run_all.sh

demo: deps
	$(MAKE) all
	$(MAKE) install
	@scripts/demo.sh

bench: deps
	$(MAKE) all
	@scripts/bench.sh

# libFuzzer run of the GGUF parser (clang). FUZZ_SECONDS bounds it.
FUZZ_SECONDS ?= 60
fuzz:
	@mkdir -p $(BUILD)/fuzz/corpus
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Ikernels -Iengine \
		test/fuzz/fuzz_gguf.c $(ENGINE_SRCS) $(ENGINE_LIBS) -o $(BUILD)/fuzz/fuzz_gguf
	$(BUILD)/fuzz/fuzz_gguf -max_total_time=$(FUZZ_SECONDS) -max_len=4096 $(BUILD)/fuzz/corpus 2>&1 | tail -5
.PHONY: fuzz
