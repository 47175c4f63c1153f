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

#if LUA_VERSION_NUM >= 503
#define kc_isinteger(L, i)  lua_isinteger(L, (i))
#else
#define kc_isinteger(L, i)  0
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
