# lua-kiamo: build in place, test, demo, bench.
# `make` builds the C modules under build/<lua>/ so that the checkout is
# usable without installing; `make env` prints the paths to use them.

LUA ?= lua5.4
LUA_INC ?= $(shell pkg-config --cflags $(LUA) 2>/dev/null)
CURL_CFLAGS ?= $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS ?= $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
CC ?= cc
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wno-unused-parameter
BUILD = build/$(LUA)

CORE_SRC = $(wildcard src/core/*.c)
CORE_HDR = $(wildcard src/core/*.h)

all: $(BUILD)/kiamo/core.so $(BUILD)/kiamo/signal.so

$(BUILD)/kiamo/core.so: $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -fPIC -shared $(LUA_INC) $(CURL_CFLAGS) \
	  -o $@ $(CORE_SRC) $(CURL_LIBS)

$(BUILD)/kiamo/signal.so: src/signal.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -fPIC -shared $(LUA_INC) -Isrc -o $@ src/signal.c

deps:
	@tools/install-deps

env: all
	@echo "export LUA_PATH='$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;'"
	@echo "export LUA_CPATH='$(CURDIR)/$(BUILD)/?.so;;'"
	@echo "export PATH='$(CURDIR)/bin':\"\$$PATH\""

lint:
	luacheck -q .

spec: all
	$(LUA) /usr/bin/busted

test: deps
	$(MAKE) all CFLAGS="$(CFLAGS) -Werror"
	$(MAKE) luajit CFLAGS="$(CFLAGS) -Werror"
	$(MAKE) lint
	$(MAKE) spec
	$(MAKE) spec-luajit

demo: all
	LUA=$(LUA) tools/demo

clean:
	rm -rf build

.PHONY: all deps env lint spec test demo clean

# The emulator: its speed, and the vendor's collection run by newman (also
# part of `make spec`).
bench-mock: all
	$(LUA) bench/mock.lua

newman: all
	$(LUA) /usr/bin/busted spec/newman_spec.lua

.PHONY: bench-mock newman

# LuaJIT (OpenResty): the core alone, against Debian's luajit2 headers
# (pkg-config luajit), into build/luajit so that only a LuaJIT cpath finds
# it. The spec run uses the .busted task "luajit".
luajit:
	$(MAKE) LUA=luajit build/luajit/kiamo/core.so

spec-luajit: luajit
	luajit /usr/bin/busted --run=luajit

# The C host example: Lua 5.4 embedded, the core linked in statically.
HOST_CFLAGS = $(CFLAGS) $(WARN) $(shell pkg-config --cflags lua5.4) \
  $(CURL_CFLAGS) -Isrc/core
HOST_LIBS = $(shell pkg-config --libs lua5.4) $(CURL_LIBS) -lpthread -lm

host: build/host/kiamo-host build/host/two-states

build/host/kiamo-host: examples/host/host.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ examples/host/host.c $(CORE_SRC) \
	  $(HOST_LIBS)

build/host/two-states: examples/host/two_states.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ examples/host/two_states.c $(CORE_SRC) \
	  -Wl,--wrap=curl_global_init,--wrap=curl_global_cleanup $(HOST_LIBS)

.PHONY: luajit spec-luajit host

# The benchmarks against the limit and the peers (bench/README.md): one
# table on stdout and in bench/results.md.
bench: deps all
	$(LUA) bench/run.lua

.PHONY: bench

# Fuzz the C core's own parsers, FUZZ_SECONDS each (default 60); run the
# whole spec suite with the core under ASan, UBSan and LeakSanitizer.
fuzz: deps
	tools/fuzz

check-memory: deps
	tools/check-memory

.PHONY: fuzz check-memory
