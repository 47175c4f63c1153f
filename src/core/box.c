/*
** box.c
** Scratch buffers owned by userdata: C memory that a Lua error (raised
** while the buffer grows) hands back through __gc.
** See Copyright Notice in LICENSE.
*/

#include <stdarg.h>

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


void kb_open(lua_State *L) {
  luaL_newmetatable(L, KIAMO_BOX);
  lua_pushcfunction(L, box_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
}
