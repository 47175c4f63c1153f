/*
** core.c
** The module kiamo.core: JSON, sessions, and libcurl set up once.
** See Copyright Notice in LICENSE.
*/

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include <curl/curl.h>

#include "kiamo.h"
#include "wire.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_OK;


/* libcurl's global set-up, once per process whatever the number of Lua
** states. When the host program already did it, this only takes one more
** reference, and nothing here ever calls curl_global_cleanup: the host
** decides when libcurl goes. */
static void init_curl(void) {
  curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}


/* t = core.array(t) / core.object(t): mark a table's JSON kind */
static int mark(lua_State *L, const char *tname) {
  if (lua_isnoneornil(L, 1))
    lua_newtable(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  luaL_getmetatable(L, tname);
  lua_setmetatable(L, 1);
  return 1;
}


static int l_array(lua_State *L) {
  return mark(L, KIAMO_ARRAY);
}


static int l_object(lua_State *L) {
  return mark(L, KIAMO_OBJECT);
}


/* s = core.escape(segment): percent-encoded for a URL path */
static int l_escape(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  kbuf *b = kb_newbox(L);
  if (!kw_escape(b, s, n))
    return kc_error(L, "kiamo: not enough memory");
  lua_pushlstring(L, b->data, b->len);
  kb_freebox(L, -2);
  return 1;
}


/* seconds = core.now(): a monotonic clock, for durations and deadlines */
static int l_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}


/* core.sleep(seconds): block the calling thread (for backoff between
** attempts outside any scheduler). */
static int l_sleep(lua_State *L) {
  lua_Number t = luaL_checknumber(L, 1);
  struct timespec ts;
  if (!(t > 0))
    return 0;
  if (t > 86400)
    t = 86400;
  ts.tv_sec = (time_t)t;
  ts.tv_nsec = (long)((t - (lua_Number)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
  return 0;
}


static const luaL_Reg funcs[] = {
  {"now", l_now},
  {"sleep", l_sleep},
  {"array", l_array},
  {"object", l_object},
  {"escape", l_escape},
  {NULL, NULL}
};


static void new_marker(lua_State *L, const char *tname, const char *field) {
  luaL_newmetatable(L, tname);
  lua_pushstring(L, tname);
  lua_setfield(L, -2, "__name");
  lua_setfield(L, -2, field);
}


int luaopen_kiamo_core(lua_State *L) {
  kc_checkversion(L);
  pthread_once(&curl_once, init_curl);
  if (curl_init_result != CURLE_OK)
    return kc_error(L, "kiamo: libcurl failed to initialise: %s",
                      curl_easy_strerror(curl_init_result));
  lua_newtable(L);
  luaL_setfuncs(L, funcs, 0);
  new_marker(L, KIAMO_ARRAY, "array_mt");
  new_marker(L, KIAMO_OBJECT, "object_mt");
  kb_open(L);
  kj_open(L);
  ks_open(L);
  lua_pushliteral(L, KIAMO_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushstring(L, curl_version_info(CURLVERSION_NOW)->version);
  lua_setfield(L, -2, "curl_version");
  return 1;
}
