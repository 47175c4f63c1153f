/*
** kiamo.h
** What the files of the C core (kiamo.core) share.
** See Copyright Notice in LICENSE.
*/

#ifndef kiamo_h
#define kiamo_h

#include "compat.h"
#include "buffer.h"

#define KIAMO_VERSION  "0.1.0"

/* Type names: each userdata's metatable in the registry */
#define KIAMO_SESSION  "kiamo.Session"
#define KIAMO_REQUEST  "kiamo.Request"
#define KIAMO_BOX  "kiamo.buffer"
#define KIAMO_ARRAY  "kiamo.array"
#define KIAMO_OBJECT  "kiamo.object"
#define KIAMO_INTEGER  "kiamo.integer"

/* box.c: raise a formatted message as is: the core's messages name what
** was wrong themselves, and the position luaL_error would add is the Lua
** layer's, not the caller's */
int kc_error(lua_State *L, const char *fmt, ...);

/* box.c: a kbuf owned by a userdata, so a raise never leaks it */
kbuf *kb_newbox(lua_State *L);
void kb_freebox(lua_State *L, int idx);
void kb_open(lua_State *L);

/* box.c: the string keys of a table, sorted, kept alive by an anchor */
ktext *kc_sorted_keys(lua_State *L, int idx, ktext *local, size_t nlocal,
                      size_t *n);

/* json.c */
void kj_open(lua_State *L);
void kj_pushnull(lua_State *L);
int kj_isnull(lua_State *L, int idx);
void kj_encode_into(lua_State *L, int idx, kbuf *b);
int kj_decode(lua_State *L, const char *s, size_t len);
double kj_strtod(const char *s, size_t n);

/* session.c */
void ks_open(lua_State *L);

#endif
