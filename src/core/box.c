/*
** box.c
** Scratch buffers owned by userdata: C memory that a Lua error (raised
** while the buffer grows) hands back through __gc.
** See Copyright Notice in LICENSE.
*/

#include <stdarg.h>
#include <stdlib.h>

#include "kiamo.h"


int kc_error(lua_State *L, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return lua_error(L);
}


static int box_gc(lua_State *L) {
  kbuf *b = (kbuf *)luaL_checkudata(L, 1, KIAMO_BOX);
  kbuf_free(b);
  return 0;
}


/* Push a new empty box and return its buffer. */
kbuf *kb_newbox(lua_State *L) {
  kbuf *b = (kbuf *)kc_newuserdata(L, sizeof(kbuf));
  kbuf_init(b);
  luaL_getmetatable(L, KIAMO_BOX);
  lua_setmetatable(L, -2);
  return b;
}


/* Free the memory of the box at 'idx' now rather than at collection. */
void kb_freebox(lua_State *L, int idx) {
  kbuf_free((kbuf *)lua_touserdata(L, idx));
}


/* Push an anchor table holding the keys of the table at 'idx' and return
** them as slices sorted bytewise: in 'local' when they fit its 'nlocal'
** places, else in a userdata pushed above the anchor. '*n' is their
** number. The anchor keeps every key alive even if a finalizer run by an
** allocation here removes it from the table meanwhile. Returns NULL, with
** only the anchor pushed, when a key is not a string. */
ktext *kc_sorted_keys(lua_State *L, int idx, ktext *local, size_t nlocal,
                      size_t *n) {
  ktext *keys = local;
  size_t count = 0, i;
  int anchor;
  lua_newtable(L);
  anchor = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) {
      lua_pop(L, 1);
      return NULL;
    }
    lua_pushvalue(L, -1);
    lua_rawseti(L, anchor, (lua_Integer)++count);
  }
  if (count > nlocal)
    keys = (ktext *)kc_newuserdata(L, count * sizeof(ktext));
  for (i = 0; i < count; i++) {
    lua_rawgeti(L, anchor, (lua_Integer)i + 1);
    keys[i].s = lua_tolstring(L, -1, &keys[i].len);
    lua_pop(L, 1);
  }
  qsort(keys, count, sizeof(ktext), ktext_compare);
  *n = count;
  return keys;
}


void kb_open(lua_State *L) {
  luaL_newmetatable(L, KIAMO_BOX);
  lua_pushcfunction(L, box_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
}
