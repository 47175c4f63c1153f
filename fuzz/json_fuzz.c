/*
** json_fuzz.c
** libFuzzer harness for the core's JSON codec, driven through a Lua
** state like any caller: decode arbitrary bytes; what decodes must
** encode, and encoding is a fixed point (decoding that text and encoding
** again gives the same bytes).
** See Copyright Notice in LICENSE.
*/

#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

int luaopen_kiamo_core(lua_State *L);

/* Stack slots of the state kept across inputs. */
enum { SLOT_CORE = 1, SLOT_DECODE, SLOT_ENCODE, SLOT_FIRST = SLOT_ENCODE };

static lua_State *state;


static void broken(const char *what, const char *detail) {
  fprintf(stderr, "json_fuzz: %s%s%s\n", what, detail ? ": " : "",
          detail ? detail : "");
  abort();
}


/* One state for the whole run, with kiamo.core loaded as require would.
** Numbers are read and written under a comma-decimal locale when one is
** installed, the harder case for the codec. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if (setlocale(LC_NUMERIC, "fr_FR.UTF-8") == NULL)
    setlocale(LC_NUMERIC, "C");
  state = luaL_newstate();
  if (state == NULL)
    broken("cannot create a Lua state", NULL);
  luaL_openlibs(state);
  luaL_requiref(state, "kiamo.core", luaopen_kiamo_core, 0);
  lua_getfield(state, SLOT_CORE, "decode");
  lua_getfield(state, SLOT_CORE, "encode");
  return 0;
}


/* Call the function in 'slot' on the value at the top (popped); leave
** 'results' results. Any raise is returned as its message, else NULL. */
static const char *call(lua_State *L, int slot, int results) {
  lua_pushvalue(L, slot);
  lua_insert(L, -2);
  if (lua_pcall(L, 1, results, 0) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    return msg != NULL ? msg : "(error object is not a string)";
  }
  return NULL;
}


/* A refusal reads "json: at byte N: ..." with N within the input or just
** past its end. */
static void check_refusal(lua_State *L, size_t size) {
  const char *msg = lua_tostring(L, -1);
  unsigned long at;
  char *rest;
  if (msg == NULL || strncmp(msg, "json: at byte ", 14) != 0)
    broken("decode failed without a message", msg);
  at = strtoul(msg + 14, &rest, 10);
  if (at < 1 || at > size + 1 || strncmp(rest, ": ", 2) != 0)
    broken("decode names a byte outside the input", msg);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = state;
  const char *err, *first, *second;
  size_t first_len, second_len;
  lua_settop(L, SLOT_FIRST);
  lua_pushlstring(L, (const char *)data, size);
  if ((err = call(L, SLOT_DECODE, 2)) != NULL)
    broken("decode raised", err);
  if (lua_isnil(L, -2)) {
    check_refusal(L, size);
    return 0;
  }
  lua_pop(L, 1);
  if ((err = call(L, SLOT_ENCODE, 1)) != NULL)
    broken("what decoded does not encode", err);
  first = lua_tolstring(L, -1, &first_len);
  lua_pushvalue(L, -1);
  if ((err = call(L, SLOT_DECODE, 2)) != NULL)
    broken("decode raised on encoded text", err);
  if (lua_isnil(L, -2))
    broken("encoded text does not decode", lua_tostring(L, -1));
  lua_pop(L, 1);
  if ((err = call(L, SLOT_ENCODE, 1)) != NULL)
    broken("decoded encoded text does not encode", err);
  second = lua_tolstring(L, -1, &second_len);
  if (first_len != second_len || memcmp(first, second, first_len) != 0)
    broken("encoding is not a fixed point", first);
  lua_settop(L, SLOT_FIRST);
  return 0;
}
