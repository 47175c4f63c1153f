/*
** session.c
** Sessions (kiamo.Session) and their requests (kiamo.Request) over
** libcurl's multi interface: one connection cache per session, shared by
** blocking calls and by transfers in flight together.
** See Copyright Notice in LICENSE.
*/

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "kiamo.h"
#include "wire.h"

#define POOL_SIZE  64   /* idle easy handles a session keeps for reuse */

/* The header lines the library sends itself. */
#define ACCEPT_JSON  "Accept: application/json"
#define CONTENT_TYPE_JSON  "Content-Type: application/json"
#define NO_EXPECT  "Expect:"   /* no 100-continue round trip */
/* Sent as a line rather than through CURLOPT_ACCEPT_ENCODING, which makes
** libcurl format the line again for every transfer; the option is still
** set (setup_easy) since libcurl decodes an answer only with it. */
#define ACCEPT_GZIP  "Accept-Encoding: gzip"

typedef struct request request;

typedef struct session {
  CURLM *multi;             /* NULL once closed */
  char *base;               /* "{url}/api/{version}" */
  char *token_header;       /* "Kiamo-Api-Token: ..." (wiped on close) */
  char *user_agent;
  char *agent_header;       /* "User-Agent: ...", NULL when empty */
  char *ca_file;
  char *proxy;
  long timeout_ms;
  long connect_timeout_ms;
  int verify;
  size_t max_body;
  CURL *pool[POOL_SIZE];    /* idle easy handles, set up for 's' */
  int npool;
  request *running;         /* requests inside 'multi' */
  request *done_first;      /* anchored requests completed since the */
  request *done_last;       /* last s:wait, in the order they ended */
  /* The header lists of requests without extra headers, built once and
  ** shared: freed only at close, once no transfer can use them. */
  struct curl_slist *plain_headers;   /* token, Accept, ... */
  struct curl_slist *json_headers;    /* the same with Content-Type */
  int hidden;               /* lines at their end that req:info() hides */
} session;

enum { REQ_NEW, REQ_READY, REQ_RUNNING, REQ_DONE };

struct request {
  session *s;               /* NULL once the session is closed */
  CURL *easy;               /* held from start to completion */
  struct curl_slist *headers;   /* its own list, with extra headers */
  struct curl_slist *sent;      /* 'headers' or one of the session's */
  int hidden;               /* lines at the end of 'sent' (User-Agent,
                               Accept-Encoding) that req:info() hides */
  kbuf url;
  kbuf body;                /* request body (JSON), if has_body */
  kbuf resp_body;
  kbuf resp_headers;        /* header block of the last response */
  char method[32];
  int has_body;
  int state;
  int too_large;            /* the body passed max_body: aborted */
  int connected;            /* a connection was made for it */
  int head_cut;             /* the response head ended early */
  size_t max_body;          /* the session's, when it was prepared */
  int out_of_memory;
  CURLcode result;
  long status;
  double seconds;
  request *prev, *next;     /* links in s->running */
  int anchored;             /* started by s:start: s:wait reports it */
  request *done_next;       /* link in s->done_first */
  char errbuf[CURL_ERROR_SIZE];
};


/*
** {======================================================
** Accessors
** =======================================================
*/

/* A session's user value is a table {anchors, data}: anchors maps each
** request started by s:start (a light userdata of its address) to the
** request itself, so that it is not collected while libcurl uses it and
** s:wait finds it again; data is the Lua layer's table (s:data()). */
#define ANCHORS  1
#define DATA  2


/* Push field 'field' of the user value of the session at 'idx' (> 0). */
static void push_uservalue(lua_State *L, int idx, int field) {
  kc_getuservalue(L, idx);
  lua_rawgeti(L, -1, field);
  lua_remove(L, -2);
}


/* Every function of both types has the two metatables as upvalues. */
#define SESSION_MT  lua_upvalueindex(1)
#define REQUEST_MT  lua_upvalueindex(2)


/* luaL_checkudata, its common case first: a userdata whose metatable is
** the upvalue 'mt', found without looking the type name up. */
static void *check_type(lua_State *L, int idx, int mt, const char *name) {
  void *p = lua_touserdata(L, idx);
  if (p != NULL && lua_getmetatable(L, idx)) {
    int same = lua_rawequal(L, -1, mt);
    lua_pop(L, 1);
    if (same)
      return p;
  }
  return luaL_checkudata(L, idx, name);
}


static session *check_session(lua_State *L, int idx) {
  return (session *)check_type(L, idx, SESSION_MT, KIAMO_SESSION);
}


static session *open_session(lua_State *L, int idx) {
  session *s = check_session(L, idx);
  if (s->multi == NULL)
    kc_error(L, "kiamo: session is closed");
  return s;
}


static request *check_request(lua_State *L, int idx) {
  return (request *)check_type(L, idx, REQUEST_MT, KIAMO_REQUEST);
}


static char *copy_string(const char *s, size_t n) {
  char *p = (char *)malloc(n + 1);
  if (p != NULL) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

/* }====================================================== */


/*
** {======================================================
** libcurl callbacks: they only copy bytes into C buffers, never touch
** Lua, so no Lua error can unwind through libcurl
** =======================================================
*/

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  request *r = (request *)ud;
  size_t len = size * n;
  if (r->resp_body.len + len > r->max_body) {
    r->too_large = 1;
    return 0;  /* aborts the transfer */
  }
  if (!kbuf_add(&r->resp_body, p, len)) {
    r->out_of_memory = 1;
    return 0;
  }
  return len;
}


static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  request *r = (request *)ud;
  size_t len = size * n;
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
    r->resp_headers.len = 0;  /* a new response (after 100 Continue) */
  if (!kbuf_add(&r->resp_headers, p, len)) {
    r->out_of_memory = 1;
    return 0;
  }
  return len;
}

/* }====================================================== */


/*
** {======================================================
** Easy handles and the running list
** =======================================================
*/

static void release_easy(request *r) {
  session *s = r->s;
  if (r->easy == NULL)
    return;
  if (s != NULL && s->multi != NULL && s->npool < POOL_SIZE)
    s->pool[s->npool++] = r->easy;
  else
    curl_easy_cleanup(r->easy);
  r->easy = NULL;
}


static void unlink_running(request *r) {
  session *s = r->s;
  if (r->prev != NULL) r->prev->next = r->next;
  else if (s != NULL && s->running == r) s->running = r->next;
  if (r->next != NULL) r->next->prev = r->prev;
  r->prev = r->next = NULL;
}


/* Does the header block end with its blank line? */
static int head_complete(const kbuf *h) {
  return (h->len >= 2 && memcmp(h->data + h->len - 2, "\n\n", 2) == 0) ||
         (h->len >= 3 && memcmp(h->data + h->len - 3, "\n\r\n", 3) == 0);
}


/* Take 'r' out of the multi handle and record how it ended. */
static void finish(request *r, CURLcode result) {
  session *s = r->s;
  curl_multi_remove_handle(s->multi, r->easy);
  unlink_running(r);
  r->result = result;
  curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
  curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME, &r->seconds);
  {
    curl_off_t connect_time = 0;
    curl_easy_getinfo(r->easy, CURLINFO_CONNECT_TIME_T, &connect_time);
    r->connected = connect_time > 0;
  }
  if (result == CURLE_OK && !head_complete(&r->resp_headers))
    r->head_cut = 1;  /* libcurl takes such an answer for a whole one */
  r->state = REQ_DONE;
  release_easy(r);
  if (r->anchored) {
    r->done_next = NULL;
    if (s->done_last != NULL) s->done_last->done_next = r;
    else s->done_first = r;
    s->done_last = r;
  }
}


/* Run the multi handle once without waiting, and finish every transfer
** that completed. Returns the number still running. */
static int drive(session *s) {
  int running = 0, left;
  CURLMsg *m;
  curl_multi_perform(s->multi, &running);
  while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
    request *r = NULL;
    if (m->msg != CURLMSG_DONE)
      continue;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
    if (r != NULL)
      finish(r, m->data.result);
  }
  return running;
}


/* Detach every running request from 's' (closing it): they end with an
** aborted transfer. */
static void abort_running(session *s) {
  while (s->running != NULL) {
    request *r = s->running;
    curl_multi_remove_handle(s->multi, r->easy);
    unlink_running(r);
    r->result = CURLE_ABORTED_BY_CALLBACK;
    r->state = REQ_DONE;
    r->s = NULL;
    curl_easy_cleanup(r->easy);
    r->easy = NULL;
  }
}

/* }====================================================== */


/*
** {======================================================
** Session
** =======================================================
*/

/* Overwrite the string 'p' with zeros. */
static void wipe(char *p) {
  if (p != NULL) {
    volatile char *v = p;
    while (*v) *v++ = 0;
  }
}


static void wipe_free(char *p) {
  wipe(p);
  free(p);
}


/* Free a header list of the session, its lines wiped (the token is
** among them). */
static void free_headers(struct curl_slist *list) {
  struct curl_slist *h;
  for (h = list; h != NULL; h = h->next)
    wipe(h->data);
  curl_slist_free_all(list);
}


/* Release everything; safe on a half-built or already closed session. */
static void close_session(session *s) {
  int i;
  if (s->multi != NULL) {
    abort_running(s);
    s->done_first = s->done_last = NULL;
    for (i = 0; i < s->npool; i++)
      curl_easy_cleanup(s->pool[i]);
    s->npool = 0;
    curl_multi_cleanup(s->multi);
    s->multi = NULL;
  }
  free_headers(s->plain_headers);
  free_headers(s->json_headers);
  s->plain_headers = s->json_headers = NULL;
  free(s->base);
  wipe_free(s->token_header);
  free(s->user_agent);
  free(s->agent_header);
  free(s->ca_file);
  free(s->proxy);
  s->base = s->token_header = s->user_agent = s->agent_header = NULL;
  s->ca_file = s->proxy = NULL;
}


static int session_close(lua_State *L) {
  close_session(check_session(L, 1));
  return 0;
}


static int session_closed(lua_State *L) {
  lua_pushboolean(L, check_session(L, 1)->multi == NULL);
  return 1;
}


static int session_tostring(lua_State *L) {
  session *s = check_session(L, 1);
  if (s->multi == NULL)
    lua_pushliteral(L, "kiamo.Session (closed)");
  else
    lua_pushfstring(L, "kiamo.Session (%s)", s->base);
  return 1;
}


static int session_url(lua_State *L) {
  lua_pushstring(L, open_session(L, 1)->base);
  return 1;
}


/* Read the string field 'name' of the options table at 1, checked by
** 'check' unless NULL; 'def' when absent. */
static const char *opt_string(lua_State *L, const char *name,
                              const char *def, size_t *len,
                              const char *(*check)(const char *, size_t)) {
  const char *v, *why;
  lua_getfield(L, 1, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    if (len != NULL) *len = def ? strlen(def) : 0;
    return def;
  }
  if (lua_type(L, -1) != LUA_TSTRING)
    kc_error(L, "kiamo.session: %s must be a string, not a %s", name,
               luaL_typename(L, -1));
  v = lua_tolstring(L, -1, len);
  why = check ? check(v, *len) : kw_check_text(v, *len);
  if (why != NULL)
    kc_error(L, "kiamo.session: %s %s", name, why);
  lua_pop(L, 1);  /* the options table keeps the string alive */
  return v;
}


static lua_Number opt_number(lua_State *L, const char *name,
                             lua_Number def) {
  lua_Number v;
  lua_getfield(L, 1, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return def;
  }
  if (lua_type(L, -1) != LUA_TNUMBER)
    kc_error(L, "kiamo.session: %s must be a number, not a %s", name,
               luaL_typename(L, -1));
  v = lua_tonumber(L, -1);
  if (!(v > 0) || v > 1e9)
    kc_error(L, "kiamo.session: %s must be a positive number", name);
  lua_pop(L, 1);
  return v;
}


static int opt_boolean(lua_State *L, const char *name, int def) {
  int v;
  lua_getfield(L, 1, name);
  if (lua_isnil(L, -1))
    v = def;
  else if (lua_type(L, -1) != LUA_TBOOLEAN)
    return kc_error(L, "kiamo.session: %s must be a boolean", name);
  else
    v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}


static void set_text(lua_State *L, char **field, const char *v,
                     size_t n) {
  if (v != NULL && (*field = copy_string(v, n)) == NULL)
    kc_error(L, "kiamo.session: not enough memory");
}


static const char *const option_names[] = {
  "url", "token", "version", "user_agent", "ca_file", "proxy", "timeout",
  "connect_timeout", "max_body", "verify", NULL
};


/* Replace the options table at 1 by a plain copy of the known options,
** read raw: no metamethod runs, and the strings read from the copy stay
** anchored by it whatever a finalizer does to the caller's table. */
static void copy_options(lua_State *L) {
  int i;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_createtable(L, 0, 10);
  for (i = 0; option_names[i] != NULL; i++) {
    lua_pushstring(L, option_names[i]);
    lua_pushvalue(L, -1);
    lua_rawget(L, 1);
    lua_rawset(L, 2);
  }
  lua_replace(L, 1);
}


/* Milliseconds for libcurl, rounded up: 0 would mean "no limit". */
static long to_ms(lua_Number seconds) {
  return (long)ceil(seconds * 1000);
}


/* Append the 'n' lines to '*list'; 0 when out of memory (the list keeps
** what was appended, for its owner to free). */
static int append_lines(struct curl_slist **list, const char *const *lines,
                        int n) {
  int i;
  for (i = 0; i < n; i++) {
    struct curl_slist *l = curl_slist_append(*list, lines[i]);
    if (l == NULL)
      return 0;
    *list = l;
  }
  return 1;
}


/* The two header lists shared by the requests of 's' without extra
** headers, in the order of a request's own list (session_prepare). */
static void build_session_headers(lua_State *L, session *s) {
  const char *plain[4], *json[6];
  int n = 0;
  plain[0] = json[0] = s->token_header;
  plain[1] = json[1] = ACCEPT_JSON;
  json[2] = CONTENT_TYPE_JSON;
  json[3] = NO_EXPECT;  /* libcurl adds Expect only for a body */
  if (s->agent_header != NULL) {
    plain[2] = json[4] = s->agent_header;
    n = 1;
  }
  plain[2 + n] = json[4 + n] = ACCEPT_GZIP;
  s->hidden = n + 1;
  if (!append_lines(&s->plain_headers, plain, 3 + n) ||
      !append_lines(&s->json_headers, json, 5 + n))
    kc_error(L, "kiamo.session: not enough memory");
}


/* core.session{url=, token=, ...}: the options are checked before
** anything is acquired; the userdata starts closed and safe to collect. */
static int l_session(lua_State *L) {
  session *s;
  size_t ulen, tlen, vlen, alen, clen, plen;
  const char *url, *token, *version, *agent, *ca, *proxy;
  lua_Number timeout, connect_timeout, max_body;
  kbuf b;
  copy_options(L);
  url = opt_string(L, "url", NULL, &ulen, kw_check_base_url);
  token = opt_string(L, "token", NULL, &tlen, kw_check_token);
  version = opt_string(L, "version", "v3", &vlen, kw_check_version);
  agent = opt_string(L, "user_agent", "lua-kiamo/" KIAMO_VERSION, &alen,
                     kw_check_header_value);
  ca = opt_string(L, "ca_file", NULL, &clen, NULL);
  proxy = opt_string(L, "proxy", NULL, &plen, NULL);
  timeout = opt_number(L, "timeout", 30);
  connect_timeout = opt_number(L, "connect_timeout", 10);
  max_body = opt_number(L, "max_body", 64.0 * 1024 * 1024);
  if (url == NULL)
    return kc_error(L, "kiamo.session: url is missing");
  if (token == NULL)
    return kc_error(L, "kiamo.session: token is missing");
  s = (session *)kc_newuserdata(L, sizeof(session));
  memset(s, 0, sizeof(session));
  luaL_getmetatable(L, KIAMO_SESSION);
  lua_setmetatable(L, -2);
  lua_createtable(L, 2, 0);  /* user value: {anchors, data} */
  lua_newtable(L);
  lua_rawseti(L, -2, ANCHORS);
  lua_newtable(L);
  lua_rawseti(L, -2, DATA);
  kc_setuservalue(L, -2);
  s->verify = opt_boolean(L, "verify", 1);
  s->timeout_ms = to_ms(timeout);
  s->connect_timeout_ms = to_ms(connect_timeout);
  s->max_body = (size_t)ceil(max_body);
  while (ulen > 0 && url[ulen - 1] == '/')
    ulen--;
  kbuf_init(&b);
  if (!kbuf_add(&b, url, ulen) || !kbuf_add(&b, "/api/", 5) ||
      !kbuf_add(&b, version, vlen) || !kbuf_add(&b, "", 1)) {
    kbuf_free(&b);
    return kc_error(L, "kiamo.session: not enough memory");
  }
  s->base = b.data;
  kbuf_init(&b);
  if (!kbuf_addstr(&b, "Kiamo-Api-Token: ") || !kbuf_add(&b, token, tlen) ||
      !kbuf_add(&b, "", 1)) {
    kbuf_free(&b);
    return kc_error(L, "kiamo.session: not enough memory");
  }
  s->token_header = b.data;
  set_text(L, &s->user_agent, agent, alen);
  if (alen > 0) {
    kbuf_init(&b);
    if (!kbuf_addstr(&b, "User-Agent: ") || !kbuf_add(&b, agent, alen) ||
        !kbuf_add(&b, "", 1)) {
      kbuf_free(&b);
      return kc_error(L, "kiamo.session: not enough memory");
    }
    s->agent_header = b.data;
  }
  set_text(L, &s->ca_file, ca, clen);
  set_text(L, &s->proxy, proxy, plen);
  build_session_headers(L, s);
  if ((s->multi = curl_multi_init()) == NULL)
    return kc_error(L, "kiamo.session: cannot create a libcurl handle");
  return 1;
}


static int session_gc(lua_State *L) {
  close_session(check_session(L, 1));
  return 0;
}

/* }====================================================== */


/*
** {======================================================
** Request
** =======================================================
*/

static void free_request(request *r) {
  if (r->state == REQ_RUNNING && r->s != NULL && r->s->multi != NULL) {
    curl_multi_remove_handle(r->s->multi, r->easy);
    unlink_running(r);
  }
  r->state = REQ_DONE;
  release_easy(r);
  curl_slist_free_all(r->headers);
  r->headers = r->sent = NULL;
  kbuf_free(&r->url);
  kbuf_free(&r->body);
  kbuf_free(&r->resp_body);
  kbuf_free(&r->resp_headers);
}


static int request_gc(lua_State *L) {
  free_request(check_request(L, 1));
  return 0;
}


/* Append 'line' to the list '*list'; raises when out of memory (the list
** is kept as it was, so its owner still frees all of it). */
static void add_header(lua_State *L, struct curl_slist **list,
                       const char *line) {
  struct curl_slist *l = curl_slist_append(*list, line);
  if (l == NULL)
    kc_error(L, "kiamo: not enough memory");
  *list = l;
}


/* Is header 'name' among the caller's extra headers (table at 'idx')? */
static int has_extra(lua_State *L, int idx, const char *name) {
  int found = 0;
  if (lua_isnil(L, idx))
    return 0;
  lua_pushnil(L);
  while (!found && lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    found = lua_type(L, -1) == LUA_TSTRING &&
            strcasecmp(lua_tostring(L, -1), name) == 0;
  }
  if (found)
    lua_pop(L, 1);
  return found;
}


/* Headers the caller may not set: the token, and the framing that
** libcurl must own. */
static int is_reserved_header(const char *name) {
  static const char *const reserved[] = {
    "Kiamo-Api-Token", "Content-Length", "Transfer-Encoding", "Host",
    "Connection", "Expect", NULL
  };
  int i;
  for (i = 0; reserved[i] != NULL; i++)
    if (strcasecmp(name, reserved[i]) == 0)
      return 1;
  return 0;
}


/* The extra headers at 'idx' (name -> string), each checked, as lines. */
static void add_extra_headers(lua_State *L, request *r, int idx) {
  kbuf *line = kb_newbox(L);
  int box = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    size_t nlen, vlen;
    const char *name, *value, *why;
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      kc_error(L, "kiamo: headers must map strings to strings");
    name = lua_tolstring(L, -2, &nlen);
    value = lua_tolstring(L, -1, &vlen);
    if ((why = kw_check_header_name(name, nlen)) != NULL)
      kc_error(L, "kiamo: header name %s", why);
    if (is_reserved_header(name))
      kc_error(L, "kiamo: header %s is set by the library", name);
    if (vlen == 0)
      kc_error(L, "kiamo: header %s: value is empty", name);
    if ((why = kw_check_header_value(value, vlen)) != NULL)
      kc_error(L, "kiamo: header %s: value %s", name, why);
    line->len = 0;
    if (!kbuf_add(line, name, nlen) || !kbuf_add(line, ": ", 2) ||
        !kbuf_add(line, value, vlen) || !kbuf_add(line, "", 1))
      kc_error(L, "kiamo: not enough memory");
    add_header(L, &r->headers, line->data);
    lua_pop(L, 1);
  }
  kb_freebox(L, box);
  lua_pop(L, 1);
}


/* Append one query value: a string, or an integer (a float with an
** integral value, on Lua without integers). */
static int add_query_value(lua_State *L, kbuf *url, const char *name) {
  char num[32];
  size_t len;
  const char *v;
  if (lua_type(L, -1) == LUA_TNUMBER) {
    lua_Number x = lua_tonumber(L, -1);
    if (!kc_isinteger(L, -1) &&
        !(x >= -9.2233720368547758e18 && x < 9.2233720368547758e18 &&
          x == floor(x)))
      kc_error(L, "kiamo: query value %s must be an integer", name);
    len = (size_t)snprintf(num, sizeof(num), "%lld",
                           kc_isinteger(L, -1)
                             ? (long long)lua_tointeger(L, -1)
                             : (long long)x);
    return kw_escape(url, num, len);
  }
  if (lua_type(L, -1) != LUA_TSTRING)
    kc_error(L, "kiamo: query value %s must be a string or a number",
               name);
  v = lua_tolstring(L, -1, &len);
  return kw_escape(url, v, len);
}


/* Append "?name=value&..." from the table at 'idx', names sorted so that
** the same query always gives the same URL. */
static void build_query(lua_State *L, request *r, int idx) {
  ktext local[16], *names;
  size_t n = 0, i;
  int anchor = lua_gettop(L) + 1;
  names = kc_sorted_keys(L, idx, local, 16, &n);
  if (names == NULL)
    kc_error(L, "kiamo: query names must be strings");
  for (i = 0; i < n; i++) {
    lua_pushlstring(L, names[i].s, names[i].len);
    lua_rawget(L, idx);
    if (!kbuf_add(&r->url, i == 0 ? "?" : "&", 1) ||
        !kw_escape(&r->url, names[i].s, names[i].len) ||
        !kbuf_add(&r->url, "=", 1) ||
        !add_query_value(L, &r->url, names[i].s))
      kc_error(L, "kiamo: not enough memory");
    lua_pop(L, 1);
  }
  lua_settop(L, anchor - 1);
}


/* Set the options that are the same for every transfer of 's', once
** per easy handle: a handle never leaves its session, and the options
** of one transfer are all set again before the next (configure). */
static int setup_easy(session *s, CURL *e) {
  int ok = 1;
#define SET(opt, v)  ok &= curl_easy_setopt(e, opt, v) == CURLE_OK
  SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
  SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  SET(CURLOPT_TIMEOUT_MS, s->timeout_ms);
  SET(CURLOPT_CONNECTTIMEOUT_MS, s->connect_timeout_ms);
  SET(CURLOPT_WRITEFUNCTION, on_body);
  SET(CURLOPT_HEADERFUNCTION, on_header);
  SET(CURLOPT_ACCEPT_ENCODING, "");
  SET(CURLOPT_PROXY, s->proxy != NULL ? s->proxy : "");
  SET(CURLOPT_SSL_VERIFYPEER, (long)s->verify);
  SET(CURLOPT_SSL_VERIFYHOST, s->verify ? 2L : 0L);
  if (s->ca_file != NULL)
    SET(CURLOPT_CAINFO, s->ca_file);
#undef SET
  return ok;
}


/* An easy handle of 's' for one transfer, or NULL. */
static CURL *take_easy(session *s) {
  CURL *e;
  if (s->npool > 0)
    return s->pool[--s->npool];
  if ((e = curl_easy_init()) != NULL && !setup_easy(s, e)) {
    curl_easy_cleanup(e);
    e = NULL;
  }
  return e;
}


/* Set the options of this transfer, every one of them, so that nothing
** of the handle's previous transfer remains; called once all buffers are
** built, so nothing here can raise. POST and PATCH go out on a new
** connection: on a reused one that dies before the answer, libcurl sends
** the request again by itself, and a mutation the server may have
** applied must never be sent twice. */
static int configure(request *r) {
  CURL *e = r->easy;
  int post = strcmp(r->method, "POST") == 0;
  int ok = 1;
#define SET(opt, v)  ok &= curl_easy_setopt(e, opt, v) == CURLE_OK
  SET(CURLOPT_ERRORBUFFER, r->errbuf);  /* first: the last one is freed */
  SET(CURLOPT_URL, r->url.data);
  SET(CURLOPT_PRIVATE, (char *)r);
  SET(CURLOPT_HTTPHEADER, r->sent);
  SET(CURLOPT_WRITEDATA, (void *)r);
  SET(CURLOPT_HEADERDATA, (void *)r);
  SET(CURLOPT_HTTPGET, 1L);  /* back to a plain GET: no body, not HEAD */
  SET(CURLOPT_FRESH_CONNECT,
      (long)(post || strcmp(r->method, "PATCH") == 0));
  if (strcmp(r->method, "HEAD") == 0)
    SET(CURLOPT_NOBODY, 1L);
  else if (r->has_body) {
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body.len);
    SET(CURLOPT_POSTFIELDS, r->body.len ? r->body.data : "");
  }
  if ((strcmp(r->method, "GET") == 0 && !r->has_body) ||
      (post && r->has_body))
    SET(CURLOPT_CUSTOMREQUEST, (char *)NULL);
  else
    SET(CURLOPT_CUSTOMREQUEST, r->method);
#undef SET
  return ok;
}


/* req = s:prepare(method, path, query, body, headers)
** Builds everything the transfer needs; raises on misuse. The request
** is made first, empty, so that a raise midway frees what was built. */
static int session_prepare(lua_State *L) {
  session *s = open_session(L, 1);
  size_t mlen, plen;
  const char *method = luaL_checklstring(L, 2, &mlen);
  const char *path = luaL_checklstring(L, 3, &plen);
  const char *why;
  request *r;
  if ((why = kw_check_method(method, mlen)) != NULL ||
      mlen >= sizeof(r->method))
    return kc_error(L, "kiamo: method %s", why ? why : "is too long");
  if ((why = kw_check_path(path, plen)) != NULL)
    return kc_error(L, "kiamo: path %s", why);
  if (!lua_isnoneornil(L, 4))
    luaL_checktype(L, 4, LUA_TTABLE);
  if (!lua_isnoneornil(L, 6))
    luaL_checktype(L, 6, LUA_TTABLE);
  lua_settop(L, 6);
  r = (request *)kc_newuserdata(L, sizeof(request));
  memset(r, 0, sizeof(request));
  lua_pushvalue(L, REQUEST_MT);
  lua_setmetatable(L, -2);
  /* its user value keeps the session alive: the session itself, or
  ** {session} where a user value must be a table */
#if LUA_VERSION_NUM < 503
  lua_createtable(L, 1, 0);
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, 1);
#else
  lua_pushvalue(L, 1);
#endif
  kc_setuservalue(L, -2);
  r->s = s;
  r->max_body = s->max_body;
  memcpy(r->method, method, mlen);
  if (!kbuf_addstr(&r->url, s->base) || !kbuf_add(&r->url, path, plen))
    return kc_error(L, "kiamo: not enough memory");
  if (!lua_isnil(L, 4))
    build_query(L, r, 4);
  if (!kbuf_add(&r->url, "", 1))
    return kc_error(L, "kiamo: not enough memory");
  if (!lua_isnil(L, 5)) {
    kj_encode_into(L, 5, &r->body);
    r->has_body = 1;
  }
  if (lua_isnil(L, 6)) {
    r->sent = r->has_body ? s->json_headers : s->plain_headers;
    r->hidden = s->hidden;
  }
  else {
    add_header(L, &r->headers, s->token_header);
    if (!has_extra(L, 6, "Accept"))
      add_header(L, &r->headers, ACCEPT_JSON);
    if (r->has_body && !has_extra(L, 6, "Content-Type"))
      add_header(L, &r->headers, CONTENT_TYPE_JSON);
    add_header(L, &r->headers, NO_EXPECT);
    add_extra_headers(L, r, 6);
    if (s->agent_header != NULL && !has_extra(L, 6, "User-Agent")) {
      add_header(L, &r->headers, s->agent_header);
      r->hidden++;
    }
    if (!has_extra(L, 6, "Accept-Encoding")) {
      add_header(L, &r->headers, ACCEPT_GZIP);
      r->hidden++;
    }
    r->sent = r->headers;
  }
  r->state = REQ_READY;
  return 1;
}


/* Put the ready request at 'idx' into the multi handle and anchor it in
** the session's user value until it completes; 'idx' 0: no anchor (the
** caller keeps it alive until it completes). */
static void start(lua_State *L, session *s, request *r, int idx) {
  if (r->state != REQ_READY)
    kc_error(L, "kiamo: request was already performed");
  if (r->s != s)
    kc_error(L, "kiamo: request belongs to another session");
  if ((r->easy = take_easy(s)) == NULL || !configure(r)) {
    release_easy(r);
    kc_error(L, "kiamo: cannot set up a libcurl handle");
  }
  if (curl_multi_add_handle(s->multi, r->easy) != CURLM_OK) {
    release_easy(r);
    kc_error(L, "kiamo: cannot start the transfer");
  }
  r->state = REQ_RUNNING;
  r->next = s->running;
  if (s->running != NULL) s->running->prev = r;
  s->running = r;
  if (idx != 0) {
    push_uservalue(L, 1, ANCHORS);
    lua_pushlightuserdata(L, (void *)r);
    lua_pushvalue(L, idx);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    r->anchored = 1;
  }
}


/* Could trying again help? Yes when the connection failed or died; no
** when the answer itself was refused here (too large, no memory), or the
** session is gone. */
static int retriable(request *r) {
  if (r->too_large || r->out_of_memory || r->s == NULL)
    return 0;
  if (r->head_cut)
    return 1;
  switch (r->result) {
    case CURLE_COULDNT_CONNECT: case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT: case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR: case CURLE_RECV_ERROR: case CURLE_PARTIAL_FILE:
      return 1;
    default:
      return 0;
  }
}


/* Push the outcome of a finished request: true, or nil, kind, message,
** retriable (true when another attempt may not meet the failure). */
static int push_outcome(lua_State *L, request *r) {
  const char *kind = "transport", *msg;
  char why[CURL_ERROR_SIZE + 64];
  switch (r->result) {
    case CURLE_OK:
      if (!r->head_cut) {
        lua_pushboolean(L, 1);
        return 1;
      }
      break;
    case CURLE_OPERATION_TIMEDOUT:
      kind = r->connected ? "timeout" : "connect";  /* never reached */
      break;
    case CURLE_COULDNT_CONNECT: case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      kind = "connect";
      break;
    case CURLE_SSL_CONNECT_ERROR: case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE: case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER: case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH: case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE: case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED: case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
      kind = "tls";
      break;
    default:
      break;
  }
  if (r->too_large) {
    snprintf(why, sizeof(why), "response body is larger than max_body "
             "(%zu bytes)", r->max_body);
    msg = why;
  }
  else if (r->out_of_memory)
    msg = "not enough memory for the response";
  else if (r->head_cut)
    msg = "response head cut short";
  else if (r->result == CURLE_ABORTED_BY_CALLBACK && r->s == NULL)
    msg = "session was closed while the request was in flight";
  else if (r->result == CURLE_PEER_FAILED_VERIFICATION) {
    snprintf(why, sizeof(why), "certificate verification failed: %s",
             r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->result));
    msg = why;
  }
  else
    msg = r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->result);
  lua_pushnil(L);
  lua_pushstring(L, kind);
  lua_pushstring(L, msg);
  lua_pushboolean(L, retriable(r));
  return 4;
}


/* ok, kind, message = s:perform(req): run one request to its end. Other
** requests in flight on the session make progress meanwhile. */
static int session_perform(lua_State *L) {
  session *s = open_session(L, 1);
  request *r = check_request(L, 2);
  start(L, s, r, 0);  /* the argument keeps it alive: no anchor */
  while (r->state != REQ_DONE) {
    if (drive(s) > 0 && r->state != REQ_DONE)
      curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
  }
  /* others that completed stay for s:wait */
  return push_outcome(L, r);
}


/* s:start(req): begin a transfer without waiting for it. */
static int session_start(lua_State *L) {
  session *s = open_session(L, 1);
  start(L, s, check_request(L, 2), 2);
  return 0;
}


/* done = s:wait(seconds): drive the transfers in flight, waiting at most
** 'seconds' for activity (0: never wait), and return the list of the
** requests that completed, possibly empty. */
static int session_wait(lua_State *L) {
  session *s = open_session(L, 1);
  lua_Number t = luaL_optnumber(L, 2, 0);
  int n = 0, ms = 0;
  if (t > 3600)
    ms = 3600 * 1000;  /* callers loop; a bound keeps the cast defined */
  else if (t > 0)
    ms = (int)ceil(t * 1000);
  if (drive(s) > 0 && ms > 0) {
    curl_multi_poll(s->multi, NULL, 0, ms, NULL);
    drive(s);
  }
  lua_settop(L, 1);
  lua_newtable(L);
  push_uservalue(L, 1, ANCHORS);
  while (s->done_first != NULL) {
    request *r = s->done_first;
    s->done_first = r->done_next;
    r->done_next = NULL;
    r->anchored = 0;
    lua_pushlightuserdata(L, (void *)r);
    lua_rawget(L, 3);
    lua_rawseti(L, 2, ++n);
    lua_pushlightuserdata(L, (void *)r);
    lua_pushnil(L);
    lua_rawset(L, 3);
  }
  s->done_last = NULL;
  lua_pop(L, 1);
  return 1;
}


/* How many requests are in flight. */
static int session_pending(lua_State *L) {
  session *s = open_session(L, 1);
  int n = 0;
  request *r;
  for (r = s->running; r != NULL; r = r->next)
    n++;
  lua_pushinteger(L, n);
  return 1;
}


static request *done_request(lua_State *L) {
  request *r = check_request(L, 1);
  if (r->state != REQ_DONE)
    kc_error(L, "kiamo: request has not completed");
  return r;
}


static int request_outcome(lua_State *L) {
  return push_outcome(L, done_request(L));
}


static int request_status(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)done_request(L)->status);
  return 1;
}


static int request_seconds(lua_State *L) {
  lua_pushnumber(L, (lua_Number)done_request(L)->seconds);
  return 1;
}


static int request_body(lua_State *L) {
  request *r = done_request(L);
  lua_pushlstring(L, r->resp_body.data ? r->resp_body.data : "",
                  r->resp_body.len);
  return 1;
}


static int request_header(lua_State *L) {
  request *r = done_request(L);
  size_t n;
  const char *name = luaL_checklstring(L, 2, &n);
  kbuf *out = kb_newbox(L);
  int found = kw_find_header(r->resp_headers.data, r->resp_headers.len,
                             name, n, out);
  if (found < 0)
    return kc_error(L, "kiamo: not enough memory");
  if (found == 0)
    lua_pushnil(L);
  else
    lua_pushlstring(L, out->data, out->len);
  kb_freebox(L, -2);
  return 1;
}


/* value = req:decode(): the response body as JSON (nil when empty), or
** nil, message. */
static int request_decode(lua_State *L) {
  request *r = done_request(L);
  size_t i;
  for (i = 0; i < r->resp_body.len; i++) {
    char c = r->resp_body.data[i];
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
      break;
  }
  lua_settop(L, 1);
  if (i == r->resp_body.len) {
    lua_pushnil(L);
    return 1;
  }
  return kj_decode(L, r->resp_body.data, r->resp_body.len);
}


static int request_url(lua_State *L) {
  request *r = check_request(L, 1);
  lua_pushstring(L, r->url.data ? r->url.data : "");
  return 1;
}


static int request_method(lua_State *L) {
  lua_pushstring(L, check_request(L, 1)->method);
  return 1;
}


/* req:info() -> {method=, url=, headers={...}, body=} for transports
** written in Lua. */
static int request_info(lua_State *L) {
  request *r = check_request(L, 1);
  struct curl_slist *h;
  int shown = 0;
  lua_createtable(L, 0, 4);
  lua_pushstring(L, r->method);
  lua_setfield(L, -2, "method");
  lua_pushstring(L, r->url.data ? r->url.data : "");
  lua_setfield(L, -2, "url");
  lua_newtable(L);
  /* a session's shared lists are gone once it is closed */
  if (r->headers != NULL || (r->s != NULL && r->s->multi != NULL))
    for (h = r->sent; h != NULL; h = h->next)
      shown++;
  shown -= r->hidden;
  for (h = r->sent; shown > 0; h = h->next, shown--) {
    const char *colon = strchr(h->data, ':');
    const char *v = colon + 1;
    if (colon == NULL)
      continue;
    while (*v == ' ')
      v++;
    if (*v == '\0')
      continue;  /* "Expect:" only removes a libcurl default */
    lua_pushlstring(L, h->data, (size_t)(colon - h->data));
    lua_pushstring(L, v);
    lua_rawset(L, -3);
  }
  lua_setfield(L, -2, "headers");
  if (r->has_body) {
    lua_pushlstring(L, r->body.data ? r->body.data : "", r->body.len);
    lua_setfield(L, -2, "body");
  }
  return 1;
}

/* }====================================================== */


/* t = s:data(): a table for the Lua layer's own state about this session
** (its options, its scheduler), kept in the session's user value: it
** lives as long as the session, and a cycle through it, such as a hook
** that refers to its session, does not keep the session alive. (A weak
** table keyed by the session would: LuaJIT's are not ephemerons.) */
static int session_data(lua_State *L) {
  check_session(L, 1);
  push_uservalue(L, 1, DATA);
  return 1;
}


static const luaL_Reg session_methods[] = {
  {"data", session_data},
  {"close", session_close},
  {"closed", session_closed},
  {"url", session_url},
  {"prepare", session_prepare},
  {"perform", session_perform},
  {"start", session_start},
  {"wait", session_wait},
  {"pending", session_pending},
  {NULL, NULL}
};

static const luaL_Reg session_meta[] = {
  {"__gc", session_gc},
  {"__close", session_gc},
  {"__tostring", session_tostring},
  {NULL, NULL}
};

static const luaL_Reg request_methods[] = {
  {"outcome", request_outcome},
  {"status", request_status},
  {"seconds", request_seconds},
  {"body", request_body},
  {"header", request_header},
  {"decode", request_decode},
  {"info", request_info},
  {"url", request_url},
  {"method", request_method},
  {NULL, NULL}
};


/* Set the functions 'l' into the table at 't', each with the two
** metatables (at 'smt' and 'rmt') as its upvalues. */
static void set_funcs(lua_State *L, int t, const luaL_Reg *l, int smt,
                      int rmt) {
  for (; l->name != NULL; l++) {
    lua_pushvalue(L, smt);
    lua_pushvalue(L, rmt);
    lua_pushcclosure(L, l->func, 2);
    lua_setfield(L, t, l->name);
  }
}


/* Register both types; leave 'session' and 'Session' (its methods table)
** in the module table on the top. */
void ks_open(lua_State *L) {
  int module = lua_gettop(L), smt = module + 1, rmt = module + 2;
  luaL_newmetatable(L, KIAMO_SESSION);
  luaL_newmetatable(L, KIAMO_REQUEST);
  set_funcs(L, smt, session_meta, smt, rmt);
  lua_newtable(L);
  set_funcs(L, module + 3, session_methods, smt, rmt);
  lua_pushvalue(L, -1);
  lua_setfield(L, smt, "__index");
  lua_setfield(L, module, "Session");   /* module.Session = methods */
  lua_pushvalue(L, smt);
  lua_pushvalue(L, rmt);
  lua_pushcclosure(L, request_gc, 2);
  lua_setfield(L, rmt, "__gc");
  lua_newtable(L);
  set_funcs(L, module + 3, request_methods, smt, rmt);
  lua_setfield(L, rmt, "__index");
  lua_settop(L, module);
  lua_pushcfunction(L, l_session);
  lua_setfield(L, -2, "session");
}
