/*
** compat.h
** The few Lua C API differences the core meets, from LuaJIT's 5.1 API
** to Lua 5.4, in one place.
** See Copyright Notice in LICENSE.
*/

#ifndef kiamo_compat_h
#define kiamo_compat_h

#include "lua.h"
#include "lauxlib.h"

/* kc_checkversion(L): raise when the module was built for another Lua
** than the one loading it (luaopen_kiamo_core calls it first). On 5.2+
** luaL_checkversion compares the version number and the sizes of
** lua_Integer and lua_Number. Built for the 5.1 API (LuaJIT), the
** module needs symbols that 5.2+ do not export, so the loader refuses
** it before any code runs; the check then only makes sure the running
** interpreter calls itself 5.1. */
#if LUA_VERSION_NUM >= 502
#define kc_checkversion(L)  luaL_checkversion(L)
#else
#include <string.h>
#define kc_checkversion(L)  kc_checkversion51(L)
static inline void kc_checkversion51(lua_State *L) {
  lua_getglobal(L, "_VERSION");
  if (lua_type(L, -1) == LUA_TSTRING &&
      strcmp(lua_tostring(L, -1), LUA_VERSION) != 0)
    luaL_error(L, "kiamo: this build of kiamo.core is for %s, not %s",
               LUA_VERSION, lua_tostring(L, -1));
  lua_pop(L, 1);
}
#endif

/* kc_hasintegers: whether Lua has an integer type (5.3+). Without one
** kc_pushinteger pushes a number, exact only up to 2^53. */
#if LUA_VERSION_NUM >= 503
#define kc_hasintegers  1
#define kc_isinteger(L, i)  lua_isinteger(L, (i))
#define kc_pushinteger(L, v)  lua_pushinteger(L, (lua_Integer)(v))
#else
#define kc_hasintegers  0
#define kc_isinteger(L, i)  0
#define kc_pushinteger(L, v)  lua_pushnumber(L, (lua_Number)(v))
#endif

#if LUA_VERSION_NUM >= 502
#define kc_rawlen(L, i)  lua_rawlen(L, (i))
#else
#define kc_rawlen(L, i)  lua_objlen(L, (i))
#endif

/* Every userdata of the core has one user value, always a table. */
#if LUA_VERSION_NUM >= 504
#define kc_newuserdata(L, sz)  lua_newuserdatauv(L, (sz), 1)
#define kc_setuservalue(L, i)  ((void)lua_setiuservalue(L, (i), 1))
#define kc_getuservalue(L, i)  ((void)lua_getiuservalue(L, (i), 1))
#elif LUA_VERSION_NUM >= 502
#define kc_newuserdata(L, sz)  lua_newuserdata(L, (sz))
#define kc_setuservalue(L, i)  lua_setuservalue(L, (i))
#define kc_getuservalue(L, i)  lua_getuservalue(L, (i))
#else
#define kc_newuserdata(L, sz)  lua_newuserdata(L, (sz))
#define kc_setuservalue(L, i)  ((void)lua_setfenv(L, (i)))
#define kc_getuservalue(L, i)  lua_getfenv(L, (i))
#endif

#endif
