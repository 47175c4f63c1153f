/*
** two_states.c
** Checks what a C host may rely on when it links kiamo.core in: several
** lua_States in one process (in one thread or in several) each have
** their own sessions and their own module tables; libcurl's global
** set-up happens once per process; the core never calls
** curl_global_cleanup, which stays the host's to call.
** See Copyright Notice in LICENSE.
**
** usage: two-states URL TOKEN
**
** URL is a Kiamo server (the emulator), TOKEN a token with the GET right.
** Prints one line per check, "ok: ..." or "failed: ...", and exits 0
** when every check passed.
**
** Built with -Wl,--wrap=curl_global_init,--wrap=curl_global_cleanup so
** that every call to them, the core's included, is counted here.
*/

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

int luaopen_kiamo_core(lua_State *L);

CURLcode __real_curl_global_init(long flags);
void __real_curl_global_cleanup(void);

#define THREADS  4
#define REQUESTS  20

static int init_calls = 0, cleanup_calls = 0;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *url, *token;
static int failures = 0;


CURLcode __wrap_curl_global_init(long flags) {
  pthread_mutex_lock(&count_lock);
  init_calls++;
  pthread_mutex_unlock(&count_lock);
  return __real_curl_global_init(flags);
}


void __wrap_curl_global_cleanup(void) {
  pthread_mutex_lock(&count_lock);
  cleanup_calls++;
  pthread_mutex_unlock(&count_lock);
  __real_curl_global_cleanup();
}


static void check(int ok, const char *what) {
  pthread_mutex_lock(&count_lock);
  printf("%s: %s\n", ok ? "ok" : "failed", what);
  if (!ok)
    failures++;
  pthread_mutex_unlock(&count_lock);
}


/* A new state where require "kiamo.core" finds the linked-in core
** through package.preload (the other way is luaL_requiref, see host.c),
** with URL and TOKEN as globals. */
static lua_State *new_state(void) {
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    fputs("two-states: cannot create a Lua state\n", stderr);
    exit(EXIT_FAILURE);
  }
  luaL_openlibs(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_kiamo_core);
  lua_setfield(L, -2, "kiamo.core");
  lua_pop(L, 1);
  lua_pushstring(L, url);
  lua_setglobal(L, "URL");
  lua_pushstring(L, token);
  lua_setglobal(L, "TOKEN");
  return L;
}


/* Run a chunk in L; return its boolean result, printing any error. */
static int run(lua_State *L, const char *chunk) {
  if (luaL_dostring(L, chunk) != LUA_OK) {
    fprintf(stderr, "two-states: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return 0;
  }
  return lua_toboolean(L, -1);
}


/* GET requests, one after the other, each answered 200. */
static const char *const REQUESTS_CHUNK =
  "local core = require 'kiamo.core'\n"
  "local s = core.session{url = URL, token = TOKEN}\n"
  "for _ = 1, N do\n"
  "  local req = s:prepare('GET', '/load-balancing/kiwi')\n"
  "  if not s:perform(req) or req:status() ~= 200 then return false end\n"
  "end\n"
  "s:close()\n"
  "return true\n";


/* One thread: its own state, its own session, REQUESTS requests. */
static void *thread_main(void *unused) {
  lua_State *L = new_state();
  int ok;
  lua_pushinteger(L, REQUESTS);
  lua_setglobal(L, "N");
  ok = run(L, REQUESTS_CHUNK);
  lua_close(L);
  return ok ? (void *)1 : NULL;
}


static void threads(void) {
  pthread_t t[THREADS];
  int i, ok = 1;
  for (i = 0; i < THREADS; i++)
    if (pthread_create(&t[i], NULL, thread_main, NULL) != 0) {
      fputs("two-states: cannot start a thread\n", stderr);
      exit(EXIT_FAILURE);
    }
  for (i = 0; i < THREADS; i++) {
    void *result;
    pthread_join(t[i], &result);
    ok = ok && result != NULL;
  }
  check(ok, "states in 4 threads each ran 20 requests on their own "
        "session");
}


/* Two states side by side in this thread. */
static void side_by_side(void) {
  lua_State *a = new_state(), *b = new_state();
  check(run(a, "core = require 'kiamo.core'\n"
               "s = core.session{url = URL, token = TOKEN}\n"
               "core.Session.added_by_a = true\n"
               "return true") &&
        run(b, "core = require 'kiamo.core'\n"
               "s = core.session{url = URL, token = TOKEN}\n"
               "return true"),
        "each state opened kiamo.core and a session");
  check(run(b, "return core.Session.added_by_a == nil"),
        "a method added in one state is not seen in the other");
  check(run(a, "s:close() return tostring(s) == 'kiamo.Session (closed)'")
        && run(b, "return tostring(s) ~= 'kiamo.Session (closed)'"),
        "closing one state's session leaves the other's open");
  lua_close(a);
  check(run(b, "local req = s:prepare('GET', '/load-balancing/kiwi')\n"
               "return s:perform(req) and req:status() == 200"),
        "the other state's session still works once the first state "
        "is closed");
  lua_close(b);
}


int main(int argc, char **argv) {
  int init_before;
  if (argc != 3) {
    fputs("usage: two-states URL TOKEN\n", stderr);
    return 2;
  }
  url = argv[1];
  token = argv[2];
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fputs("two-states: libcurl failed to initialise\n", stderr);
    return EXIT_FAILURE;
  }
  init_before = init_calls;
  threads();
  side_by_side();
  check(init_calls - init_before == 1,
        "the core called curl_global_init once for 6 states");
  check(cleanup_calls == 0, "the core never called curl_global_cleanup");
  curl_global_cleanup();
  return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
