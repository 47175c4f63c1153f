/*
** signal.c
** kiamo.signal: remember that SIGTERM, SIGINT or SIGHUP arrived, so that a
** Lua loop can stop cleanly at its next turn (kiamo-mock uses it).
*/

#include <signal.h>
#include <string.h>

#include "core/compat.h"


/* The signals a script may ask to catch, by their names without "SIG". */
static const struct {
  const char *name;
  int number;
} SIGNALS[] = {
  {"TERM", SIGTERM},
  {"INT", SIGINT},
  {"HUP", SIGHUP},
  {NULL, 0}
};


/*
** The number of the first signal caught since the last reset, 0 if none.
** Written only by the handler (when still 0) and by 'reset'.
*/
static volatile sig_atomic_t caught_signal = 0;


static void on_signal (int number) {
  if (caught_signal == 0)
    caught_signal = number;
}


/* Index of 'name' in SIGNALS; raises on an unknown name. */
static int checksignal (lua_State *L, int arg, const char *name) {
  int i;
  for (i = 0; SIGNALS[i].name != NULL; i++) {
    if (strcmp(SIGNALS[i].name, name) == 0)
      return i;
  }
  return luaL_argerror(L, arg,
                       lua_pushfstring(L, "unknown signal '%s'", name));
}


/*
** catch(names): install the handler for each name of the array 'names'
** ("TERM", "INT", "HUP"). No SA_RESTART: a blocking call is interrupted,
** and callers that retry on EINTR (LuaSocket's select) must poll caught().
** Returns true; raises on an unknown name or if sigaction fails.
*/
static int signal_catch (lua_State *L) {
  lua_Integer i, n;
  luaL_checktype(L, 1, LUA_TTABLE);
  n = (lua_Integer)kc_rawlen(L, 1);
  for (i = 1; i <= n; i++) {
    struct sigaction action;
    int index;
    lua_rawgeti(L, 1, i);
    index = checksignal(L, 1, luaL_checkstring(L, -1));
    lua_pop(L, 1);
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGNALS[index].number, &action, NULL) != 0)
      return luaL_error(L, "cannot catch SIG%s", SIGNALS[index].name);
  }
  lua_pushboolean(L, 1);
  return 1;
}


/* caught(): the name of the first signal caught ("TERM", ...) or nil. */
static int signal_caught (lua_State *L) {
  int i;
  int number = caught_signal;
  for (i = 0; number != 0 && SIGNALS[i].name != NULL; i++) {
    if (SIGNALS[i].number == number) {
      lua_pushstring(L, SIGNALS[i].name);
      return 1;
    }
  }
  lua_pushnil(L);
  return 1;
}


/* reset(): forget the signal caught, so that caught() returns nil. */
static int signal_reset (lua_State *L) {
  caught_signal = 0;
  return 0;
}


static const luaL_Reg signal_functions[] = {
  {"catch", signal_catch},
  {"caught", signal_caught},
  {"reset", signal_reset},
  {NULL, NULL}
};


int luaopen_kiamo_signal (lua_State *L) {
  lua_newtable(L);
  luaL_setfuncs(L, signal_functions, 0);
  return 1;
}
