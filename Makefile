# One plain Makefile for the bundle: scep-ca, rlm_entra_match, the shared
# library both use, the Microsoft cloud emulator, tests and benchmarks.
#
#   make                  build everything into build/
#   make check            install test dependencies if missing, run all tests
#   make check SANITIZE=1 the same under ASan+UBSan (objects in build-san/)
#   make demo             install runtime dependencies, build, show it working
#   make bench            run the benchmarks against their peers
#   make fuzz             build the libFuzzer targets (clang)
#   make fuzz-long        run each for 10 million executions (not in CI)
#   make install          install the daemon, the module and the unit file

CC	?= cc
PREFIX	?= /usr/local
DESTDIR	?=
FR_LIBDIR ?= /usr/lib/freeradius

ifeq ($(SANITIZE),1)
BUILD	?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD	?= build
SANFLAGS =
endif

PKGS	 = openssl sqlite3 libmicrohttpd libcurl jansson inih
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN	 = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wformat=2 -Werror
CFLAGS	?= -O2 -g

# Hardening, kept whatever CFLAGS says (scep-ca and the module face the
# network; tests/integration/t_hardening.sh checks the binaries): stack
# protector, FORTIFY, full RELRO, and PIE for executables (objects are
# -fPIC already).  FORTIFY only works when optimising, so a CFLAGS without
# -O1 or more gets -O1 after it.  Under SANITIZE=1 FORTIFY is left out:
# its __*_chk calls bypass ASan's interceptors (ASan would miss overflows
# inside memcpy and friends) and ASan already checks every access.
# HARDEN=0 builds without any of it (e.g. for -O0 debugging).
HARDEN	?= 1
ifeq ($(HARDEN),1)
HARD_OPT := $(if $(filter -O1 -O2 -O3 -Os -Og -Oz -Ofast,$(lastword \
	   $(filter -O%,$(CFLAGS)))),,-O1)
HARD_CFLAGS = -fstack-protector-strong $(HARD_OPT)
ifneq ($(SANITIZE),1)
HARD_CFLAGS += -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
endif
HARD_LDFLAGS = -Wl,-z,relro,-z,now
PIE	 = -pie
endif
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -pthread -fPIC $(WARN) $(CFLAGS) \
	   $(HARD_CFLAGS) $(SANFLAGS) -Ishared $(EXTRA_CFLAGS) $(PKG_CFLAGS) \
	   -MMD -MP
ALL_LDFLAGS = -pthread $(SANFLAGS) $(HARD_LDFLAGS) $(LDFLAGS)
LIBS	 = $(PKG_LIBS) -lm

# ---- shared/: libbundle, one folder per role -------------------------------
# Include lines name the folder ("store/store.h"): shared/ is the include
# root of everything, scep-ca/ of the daemon, rlm_entra_match/ of the module
# and its engine.  Nothing in shared/ can include from the other two.
SHARED_SRC  := $(wildcard shared/*/*.c)
OBJ	    := $(BUILD)/obj
SHARED_OBJ  := $(SHARED_SRC:%.c=$(OBJ)/%.o)
LIBBUNDLE   := $(BUILD)/libbundle.a

# ---- scep-ca/: everything but main.c also goes into a library for tests --
SCEPCA_SRC  := $(filter-out scep-ca/main.c,$(wildcard scep-ca/*.c scep-ca/*/*.c))
SCEPCA_OBJ  := $(SCEPCA_SRC:%.c=$(OBJ)/%.o)
LIBSCEPCA   := $(BUILD)/libscepca.a
SCEPCA_BIN  := $(BUILD)/scep-ca

# ---- tests/fake-entra: the Microsoft cloud emulator ----------------------
FAKE_SRC    := $(wildcard tests/fake-entra/*.c)
FAKE_OBJ    := $(FAKE_SRC:%.c=$(OBJ)/%.o)
FAKE_BIN    := $(BUILD)/fake-entra

# ---- test tools and benchmarks: one program per *.c, helpers in *_lib.c --
TOOL_LIB_SRC := $(wildcard tests/tools/*_lib.c)
TOOL_LIB_OBJ := $(TOOL_LIB_SRC:%.c=$(OBJ)/%.o)
TOOL_SRC    := $(filter-out $(TOOL_LIB_SRC),$(wildcard tests/tools/*.c))
TOOL_BIN    := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
BENCH_SRC   := $(wildcard bench/*.c)
BENCH_BIN   := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

# ---- unit tests (cmocka): one program per tests/unit/test_*.c ------------
UNIT_SRC    := $(wildcard tests/unit/test_*.c)
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)

# ---- rlm_entra_match: built against the installed FreeRADIUS headers -----
# FR_INC holds the headers libfreeradius-dev lacks (scripts/freeradius-
# headers.sh); it comes before the system include path, so <freeradius/x.h>
# finds both sets.  The force-included headers, -DNDEBUG and the defines are
# what the server itself was built with (struct layouts must match).
# The .so exports only rlm_entra_match: libbundle's symbols stay inside it.
FR_INC      := $(BUILD)/freeradius-include
MOD_SRC     := $(wildcard rlm_entra_match/rlm_entra_match.c)
# The module's decision engine (entra_match*.c) is plain C without
# FreeRADIUS, next to its glue as rlm_rest keeps rest.c: the unit tests and
# the benchmarks link it too.
ENGINE_SRC  := $(filter-out $(MOD_SRC),$(wildcard rlm_entra_match/*.c))
ENGINE_OBJ  := $(ENGINE_SRC:%.c=$(OBJ)/%.o)
LIBENGINE   := $(BUILD)/libentramatch.a
MOD_SO      := $(BUILD)/rlm_entra_match.so
MOD_CFLAGS  = -std=gnu99 -D_GNU_SOURCE -D_REENTRANT -D_POSIX_PTHREAD_SEMANTICS \
	   -DNDEBUG -fno-strict-aliasing -fPIC -pthread $(CFLAGS) \
	   $(HARD_CFLAGS) $(SANFLAGS) \
	   $(WARN) -I$(FR_INC) -Ishared -Irlm_entra_match $(PKG_CFLAGS) \
	   -include freeradius/autoconf.h -include freeradius/build.h \
	   -include freeradius/features.h -include freeradius/radpaths.h
MOD_LDFLAGS = -shared -Wl,-z,defs -Wl,--as-needed -Wl,--exclude-libs,ALL
MOD_LIBS    = -L$(FR_LIBDIR) -Wl,-rpath,$(FR_LIBDIR) -lfreeradius-server \
	   -lfreeradius-radius -ltalloc $(LIBS)

ALL_BINS := $(SCEPCA_BIN) $(TOOL_BIN) $(BENCH_BIN)
ifneq ($(FAKE_SRC),)
ALL_BINS += $(FAKE_BIN)
endif
ifneq ($(MOD_SRC),)
ALL_BINS += $(MOD_SO)
endif

.PHONY: all check demo bench fuzz install clean deps-build unit FORCE
all: deps-build $(ALL_BINS) $(UNIT_BIN)

deps-build:
	@scripts/deps.sh build

# Objects are rebuilt when the flags change (HARDEN, SANITIZE, CFLAGS...):
# $(BUILD)/.flags is rewritten only when they differ from the last build.
BUILD_FLAGS = $(ALL_CFLAGS) | $(MOD_CFLAGS) | $(ALL_LDFLAGS) $(PIE)
$(BUILD)/.flags: FORCE
	@mkdir -p $(@D)
	@echo '$(BUILD_FLAGS)' | cmp -s - $@ || echo '$(BUILD_FLAGS)' >$@
FORCE:

$(OBJ)/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBBUNDLE): $(SHARED_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIBSCEPCA): $(SCEPCA_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIBENGINE): $(ENGINE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(OBJ)/scep-ca/%.o: EXTRA_CFLAGS = -Iscep-ca
$(OBJ)/rlm_entra_match/%.o: EXTRA_CFLAGS = -Irlm_entra_match

$(SCEPCA_BIN): $(OBJ)/scep-ca/main.o $(LIBSCEPCA) $(LIBBUNDLE)
	$(CC) $(ALL_LDFLAGS) $(PIE) -o $@ $^ $(LIBS)

$(FAKE_BIN): $(FAKE_OBJ) $(LIBBUNDLE)
	$(CC) $(ALL_LDFLAGS) $(PIE) -o $@ $^ $(LIBS)

$(BUILD)/tools/%: $(OBJ)/tests/tools/%.o $(TOOL_LIB_OBJ) $(LIBBUNDLE)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $(PIE) -o $@ $^ $(LIBS)

$(OBJ)/bench/%.o: EXTRA_CFLAGS = -Iscep-ca -Irlm_entra_match -Itests/tools

$(BUILD)/bench/%: $(OBJ)/bench/%.o $(TOOL_LIB_OBJ) $(LIBSCEPCA) $(LIBENGINE) \
    $(LIBBUNDLE)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $(PIE) -o $@ $^ $(LIBS)

$(BUILD)/unit/%: $(OBJ)/tests/unit/%.o $(LIBSCEPCA) $(LIBENGINE) $(LIBBUNDLE)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $(PIE) -o $@ $^ $(LIBS) -lcmocka

# The FreeRADIUS headers Debian's libfreeradius-dev lacks come from Debian's
# own source package of the installed version (see the script); fetched
# again when libfreeradius-dev changes.
$(FR_INC)/.stamp: scripts/freeradius-headers.sh $(wildcard /usr/include/freeradius/radiusd.h)
	scripts/freeradius-headers.sh $(FR_INC)
	@touch $@

$(OBJ)/rlm_entra_match/rlm_entra_match.o: rlm_entra_match/rlm_entra_match.c \
    $(FR_INC)/.stamp $(BUILD)/.flags
	@mkdir -p $(@D)
	$(CC) $(MOD_CFLAGS) -MMD -MP -c -o $@ $<

$(MOD_SO): $(MOD_SRC:%.c=$(OBJ)/%.o) $(LIBENGINE) $(LIBBUNDLE)
	$(CC) $(MOD_LDFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(MOD_LIBS)

# Unit tests and fuzz targets also test scep-ca's and the engine's internals.
$(OBJ)/tests/unit/%.o: EXTRA_CFLAGS = -Iscep-ca -Irlm_entra_match

unit: $(UNIT_BIN)

check:
	@scripts/deps.sh check
	@$(MAKE) --no-print-directory all
	@tests/run.sh $(BUILD)

demo:
	@scripts/deps.sh demo
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh $(BUILD)

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory all
	@bench/run.sh $(BUILD)

fuzz:
	@scripts/deps.sh fuzz
	@tests/fuzz/build.sh $(BUILD)/fuzz

# Every fuzz target for 10 million executions (FUZZ_RUNS); not in CI.
.PHONY: fuzz-long
fuzz-long:
	@scripts/deps.sh fuzz
	@tests/fuzz/long.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(FR_LIBDIR) \
	    $(DESTDIR)/lib/systemd/system
	install -m 0755 $(SCEPCA_BIN) $(DESTDIR)$(PREFIX)/sbin/scep-ca
	[ ! -f $(MOD_SO) ] || install -m 0644 $(MOD_SO) $(DESTDIR)$(FR_LIBDIR)/rlm_entra_match.so
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' scripts/scep-ca.service > \
	    $(DESTDIR)/lib/systemd/system/scep-ca.service
	install -d $(DESTDIR)$(PREFIX)/share/doc/scep-ca
	install -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/scep-ca/README.md
	cp -R raddb-examples $(DESTDIR)$(PREFIX)/share/doc/scep-ca/

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -type f -name '*.d' 2>/dev/null)
