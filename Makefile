# Postern top-level Makefile (GNU make, no autotools).
#
#   make                      build every program into $(BUILD)/
#   make install PREFIX=DIR   install under DIR (and DESTDIR= for packaging)
#   make check                install deps, build, unit tests, ASan/UBSan unit
#                             tests, integration tests; last line "N passed, N failed"
#   make asan                 unit tests under AddressSanitizer + UBSan
#   make run                  build, install under ./run and start an instance
#   make bench                benchmark against Debian's Postfix
#   make fuzz                 build the libFuzzer targets (clang)
#
# Each directory src/<name>/ has a module.mk that declares what it builds:
#   LIBRARIES += name         with name_SRCS, name_LDLIBS
#   DAEMONS   += name         installed in libexec/postfix; name_SRCS, name_DEPS, name_LDLIBS
#   COMMANDS  += name         installed in sbin; same variables
# name_DEPS lists internal libraries in link order (most dependent first).

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= gcc
CFLAGS  ?= -O2 -g
SAN_FLAGS ?=
WARNINGS := -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
            -Wformat-security -Wvla -Wmissing-prototypes -Wstrict-prototypes
INCLUDES := -I$(BUILD)/gen -Isrc/util -Isrc/global -Isrc/maps -Isrc/master -Isrc/tls
ALL_CFLAGS = $(WARNINGS) $(CFLAGS) $(SAN_FLAGS) -D_GNU_SOURCE $(INCLUDES) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS)

LIBRARIES :=
DAEMONS   :=
COMMANDS  :=
include $(sort $(wildcard src/*/module.mk))

# Link order of the internal libraries: a library may use those after it.
# A daemon's own core library (unit-tested without the daemon) comes first.
SHARED_LIBRARIES := tls server maps global util
LIBRARY_ORDER := $(filter-out $(SHARED_LIBRARIES),$(LIBRARIES)) \
	$(filter $(LIBRARIES),$(SHARED_LIBRARIES))

define library_rules
$(1)_OBJS := $$(patsubst src/%.c,$(BUILD)/obj/%.o,$$($(1)_SRCS))
$(BUILD)/lib/lib$(1).a: $$($(1)_OBJS)
	@mkdir -p $$(@D)
	@rm -f $$@
	$$(AR) rcs $$@ $$^
endef

define program_rules
$(1)_OBJS := $$(patsubst src/%.c,$(BUILD)/obj/%.o,$$($(1)_SRCS))
$(1)_LIBFILES := $$(foreach l,$$($(1)_DEPS),$(BUILD)/lib/lib$$(l).a)
$(BUILD)/bin/$(1): $$($(1)_OBJS) $$($(1)_LIBFILES)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$($(1)_OBJS) $$($(1)_LIBFILES) \
		$$($(1)_LDLIBS) $$(foreach l,$$($(1)_DEPS),$$($$(l)_LDLIBS))
endef

$(foreach l,$(LIBRARIES),$(eval $(call library_rules,$(l))))
$(foreach p,$(DAEMONS) $(COMMANDS),$(eval $(call program_rules,$(p))))

PROGRAM_FILES := $(addprefix $(BUILD)/bin/,$(DAEMONS) $(COMMANDS))
LIBRARY_FILES := $(foreach l,$(LIBRARY_ORDER),$(BUILD)/lib/lib$(l).a)
ALL_EXTERNAL_LIBS = $(foreach l,$(LIBRARY_ORDER),$($(l)_LDLIBS))

# Unit tests: tests/unit/test_<x>.c, each linked with every library.
UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

$(BUILD)/tests/%: tests/unit/%.c $(LIBRARY_FILES) tests/unit/unit.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit -MF $(BUILD)/tests/$*.d $(ALL_LDFLAGS) -o $@ $< \
		$(LIBRARY_FILES) $(ALL_EXTERNAL_LIBS) -lcmocka

$(BUILD)/obj/%.o: src/%.c $(BUILD)/gen/paths.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Compiled-in directory defaults follow PREFIX; rewritten only when they change.
$(BUILD)/gen/paths.h: FORCE
	@mkdir -p $(@D)
	@scripts/gen-paths "$(PREFIX)" > $@.new
	@if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; fi

.PHONY: all install check unit asan run bench fuzz deps clean list-programs FORCE
all: $(PROGRAM_FILES)

unit-build: $(UNIT_TESTS)
unit: unit-build
	@scripts/run-unit $(BUILD)/tests

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan CFLAGS="-O1 -g -fno-omit-frame-pointer" \
		SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" unit

deps:
	@scripts/install-deps

install: all
	@scripts/install "$(BUILD)" "$(PREFIX)" "$(DESTDIR)" "$(DAEMONS)" "$(COMMANDS)"

check: deps
	@scripts/check

run: deps
	@scripts/run

bench: deps
	@scripts/bench

FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
fuzz:
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang CFLAGS="-O1 -g" \
		SAN_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" fuzz-targets
fuzz-targets: $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIBRARY_FILES)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -MF $(BUILD)/fuzz/$*.d -o $@ $< \
		$(LIBRARY_FILES) $(ALL_EXTERNAL_LIBS)

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# For tests and scripts: the programs this tree builds.
list-programs:
	@echo "daemons: $(sort $(DAEMONS))"
	@echo "commands: $(sort $(COMMANDS))"
