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
	$(CC) $(CFLAGS) $(WARN) -fPIC -shared $(LUA_INC) -o $@ src/signal.c

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
	$(MAKE) lint
	$(MAKE) spec

clean:
	rm -rf build

.PHONY: all deps env lint spec test clean

# The emulator: its speed, and the vendor's collection run by newman (also
# part of `make spec`).
bench-mock: all
	$(LUA) bench/mock.lua

newman: all
	$(LUA) /usr/bin/busted spec/newman_spec.lua

.PHONY: bench-mock newman
