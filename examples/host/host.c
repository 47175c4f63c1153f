/*
** host.c
** A C program that embeds Lua 5.4 with kiamo.core linked in, and runs a
** Lua script in a frame loop at 60 frames per second, as a game or a
** dashboard would. It prints frame-time statistics at exit.
** See Copyright Notice in LICENSE.
**
** usage: kiamo-host SCRIPT [ARG...]
**
** SCRIPT returns a function frame(n, seconds) that the host calls once a
** frame with the frame number (from 1) and the time since the loop
** started; it returns true to be called again, anything else to stop.
** SCRIPT's arguments are in the global table arg, as with lua5.4.
** Everything the script needs to do in a frame must take well under a
** frame's 16.7 ms: Kiamo calls run as tasks (s:spawn) that the script
** moves on with s:poll(0), which never waits.
**
** The host owns libcurl: it calls curl_global_init before any Lua runs
** and curl_global_cleanup after the Lua state is closed. kiamo.core then
** only takes one more reference on libcurl's global state and never
** releases it behind the host's back.
*/

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

int luaopen_kiamo_core(lua_State *L);

#define FRAME_SECONDS  (1.0 / 60.0)


/* The frame times measured, in seconds, grown as needed. */
typedef struct {
  double *t;
  size_t n, size;
} samples;


static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


/* Sleep until the monotonic clock reads 'deadline' (seconds). */
static void sleep_until(double deadline) {
  struct timespec ts;
  ts.tv_sec = (time_t)deadline;
  ts.tv_nsec = (long)((deadline - (double)ts.tv_sec) * 1e9);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
    ;
}


static void add_sample(samples *s, double t) {
  if (s->n == s->size) {
    size_t size = s->size ? 2 * s->size : 1024;
    double *grown = (double *)realloc(s->t, size * sizeof(double));
    if (grown == NULL) {
      fputs("kiamo-host: not enough memory\n", stderr);
      exit(EXIT_FAILURE);
    }
    s->t = grown;
    s->size = size;
  }
  s->t[s->n++] = t;
}


static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}


/* The sample at fraction q (0..1) of the sorted samples. */
static double quantile(const samples *s, double q) {
  size_t i = (size_t)(q * (double)(s->n - 1) + 0.5);
  return s->t[i];
}


/* Print one line of statistics about the frames' durations (the time
** the script's frame function took), in milliseconds. */
static void report(samples *s, double elapsed) {
  double sum = 0;
  size_t i, over = 0;
  if (s->n == 0) {
    printf("frames: 0\n");
    return;
  }
  qsort(s->t, s->n, sizeof(double), compare);
  for (i = 0; i < s->n; i++) {
    sum += s->t[i];
    if (s->t[i] > FRAME_SECONDS)
      over++;
  }
  printf("frames: %zu in %.2f s, frame ms: mean %.3f p50 %.3f p99 %.3f "
         "max %.3f, over 16.7 ms: %zu\n", s->n, elapsed,
         1e3 * sum / (double)s->n, 1e3 * quantile(s, 0.5),
         1e3 * quantile(s, 0.99), 1e3 * s->t[s->n - 1], over);
}


/* The message handler of every protected call: error plus traceback. */
static int traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL)
    msg = lua_pushfstring(L, "(error object is a %s value)",
                          luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  return 1;
}


/* Set the global arg as lua5.4 does: script name at 0, its arguments
** from 1. */
static void set_args(lua_State *L, int argc, char **argv) {
  int i;
  lua_createtable(L, argc - 1, 1);
  for (i = 1; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1);
  }
  lua_setglobal(L, "arg");
}


/* Load and run the script; leave its frame function on the stack.
** Returns 0, or -1 after printing the error. */
static int load_script(lua_State *L, const char *path) {
  lua_pushcfunction(L, traceback);
  if (luaL_loadfile(L, path) != LUA_OK ||
      lua_pcall(L, 0, 1, 1) != LUA_OK) {
    fprintf(stderr, "kiamo-host: %s\n", lua_tostring(L, -1));
    return -1;
  }
  if (!lua_isfunction(L, -1)) {
    fprintf(stderr, "kiamo-host: %s must return a frame function\n", path);
    return -1;
  }
  return 0;
}


/* The frame loop: call frame(n, seconds) at 60 frames per second until
** it returns something other than true. Returns 0 or -1 on an error. */
static int run_frames(lua_State *L, samples *s) {
  int frame = lua_gettop(L), handler = frame - 1;
  double start = now(), next = start;
  lua_Integer n;
  for (n = 1;; n++) {
    double before = now(), after;
    int more;
    lua_pushvalue(L, frame);
    lua_pushinteger(L, n);
    lua_pushnumber(L, before - start);
    if (lua_pcall(L, 2, 1, handler) != LUA_OK) {
      fprintf(stderr, "\nkiamo-host: %s\n", lua_tostring(L, -1));
      return -1;
    }
    after = now();
    add_sample(s, after - before);
    more = lua_toboolean(L, -1) && lua_type(L, -1) == LUA_TBOOLEAN;
    lua_pop(L, 1);
    if (!more)
      break;
    next += FRAME_SECONDS;
    if (next < after)
      next = after;  /* a late frame: start again from now, no catch-up */
    sleep_until(next);
  }
  report(s, now() - start);
  return 0;
}


int main(int argc, char **argv) {
  samples s = {NULL, 0, 0};
  lua_State *L;
  int status = EXIT_FAILURE;
  if (argc < 2) {
    fputs("usage: kiamo-host SCRIPT [ARG...]\n", stderr);
    return 2;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fputs("kiamo-host: libcurl failed to initialise\n", stderr);
    return EXIT_FAILURE;
  }
  L = luaL_newstate();
  if (L == NULL) {
    fputs("kiamo-host: cannot create a Lua state\n", stderr);
    return EXIT_FAILURE;
  }
  luaL_openlibs(L);
  /* kiamo.core is linked in: register it as loaded, as if required */
  luaL_requiref(L, "kiamo.core", luaopen_kiamo_core, 0);
  lua_pop(L, 1);
  set_args(L, argc, argv);
  if (load_script(L, argv[1]) == 0 && run_frames(L, &s) == 0)
    status = EXIT_SUCCESS;
  fflush(stdout);
  lua_close(L);  /* sessions close here, before libcurl goes */
  curl_global_cleanup();
  free(s.t);
  return status;
}
