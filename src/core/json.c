/*
** json.c
** JSON for the Kiamo API: integers stay integers (64-bit), arrays and
** objects keep their kind, null is one sentinel, text is valid UTF-8.
** See Copyright Notice in LICENSE.
*/

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiamo.h"

#define MAX_DEPTH  256          /* nesting accepted both ways */
#define MAX_KEYS_ON_STACK  32   /* objects sorted without allocating */
#define MAX_ARRAY  16777216     /* the most items an array may claim */
#define HINT_DEPTH  16          /* depths whose table sizes are remembered */
#define MAX_HINT  1024          /* the most room a table is made with */
#define FIRST_HINT  4           /* the room of a table at a new depth */
#define LONG_ARRAY  4096        /* items after which an array is remade */
#define KEY_SLOTS  64           /* object keys remembered */
#define MAX_KEY_LEN  40         /* the longest key remembered */

static const char null_sentinel = 0;  /* its address is kiamo.null */



void kj_pushnull(lua_State *L) {
  lua_pushlightuserdata(L, (void *)&null_sentinel);
}


int kj_isnull(lua_State *L, int idx) {
  return lua_touserdata(L, idx) == (void *)&null_sentinel &&
         lua_type(L, idx) == LUA_TLIGHTUSERDATA;
}


/*
** {======================================================
** UTF-8
** =======================================================
*/

/* Length of the valid UTF-8 sequence at 'p' (which is before 'end'), or
** 0 when it is invalid: overlong, surrogate, beyond U+10FFFF or cut. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end) {
  unsigned c = p[0];
  size_t n, i;
  unsigned long cp;
  if (c < 0x80) return 1;
  else if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; }
  else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; }
  else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; }
  else return 0;
  if ((size_t)(end - p) < n) return 0;
  for (i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
      (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  return n;
}


static void utf8_put(kbuf *b, unsigned long cp) {
  if (cp < 0x80)
    kbuf_put(b, cp);
  else if (cp < 0x800) {
    kbuf_put(b, 0xc0 | (cp >> 6));
    kbuf_put(b, 0x80 | (cp & 0x3f));
  }
  else if (cp < 0x10000) {
    kbuf_put(b, 0xe0 | (cp >> 12));
    kbuf_put(b, 0x80 | ((cp >> 6) & 0x3f));
    kbuf_put(b, 0x80 | (cp & 0x3f));
  }
  else {
    kbuf_put(b, 0xf0 | (cp >> 18));
    kbuf_put(b, 0x80 | ((cp >> 12) & 0x3f));
    kbuf_put(b, 0x80 | ((cp >> 6) & 0x3f));
    kbuf_put(b, 0x80 | (cp & 0x3f));
  }
}

/* }====================================================== */


/*
** {======================================================
** Numbers, whatever the C locale says the decimal point is
** =======================================================
*/

/* Write 'x' (finite) in the fewest significant digits that read back
** as the same double, with '.' as the decimal point. */
static int format_double(char *out, size_t size, double x) {
  char point = localeconv()->decimal_point[0];
  int prec, n = 0;
  char *p;
  for (prec = 15; prec <= 17; prec++) {
    n = snprintf(out, size, "%.*g", prec, x);
    if (kj_strtod(out, (size_t)n) == x)
      break;
  }
  if (point != '.' && (p = strchr(out, point)) != NULL)
    *p = '.';
  return n;
}


/* Read the JSON number text 's' (n bytes, already checked) as a double,
** with '.' as the decimal point. */
double kj_strtod(const char *s, size_t n) {
  char local[64], *copy = local, *p;
  char point = localeconv()->decimal_point[0];
  double x;
  if (n >= sizeof(local) && (copy = malloc(n + 1)) == NULL)
    return HUGE_VAL;  /* absurd length and no memory: never a real id */
  memcpy(copy, s, n);
  copy[n] = '\0';
  if (point != '.' && (p = strchr(copy, '.')) != NULL)
    *p = point;
  x = strtod(copy, NULL);
  if (copy != local)
    free(copy);
  return x;
}


static int format_integer(char *out, long long v) {
  char tmp[24];
  int n = 0, len = 0;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
                               : (unsigned long long)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u > 0);
  if (v < 0)
    out[len++] = '-';
  while (n > 0)
    out[len++] = tmp[--n];
  return len;
}

/* }====================================================== */


/*
** {======================================================
** Encoder
** =======================================================
*/

typedef struct pathpart {
  const char *key;      /* object key, or NULL for an array index */
  size_t keylen;
  lua_Integer index;
} pathpart;

typedef struct encoder {
  lua_State *L;
  kbuf *b;
  int array_mt, object_mt;  /* stack slots of the two marker metatables */
  int integer_mt;           /* and of core.integer's boxes */
  int depth;
  pathpart path[MAX_DEPTH];
} encoder;

/* Raise "json: <path>: <what>"; the scratch buffer is owned by a box on
** the stack, so nothing leaks. */
static int encode_error(encoder *e, const char *what) {
  lua_State *L = e->L;
  luaL_Buffer msg;
  int i;
  char num[32];
  luaL_buffinit(L, &msg);
  luaL_addstring(&msg, "json: ");
  for (i = 0; i < e->depth; i++) {
    const pathpart *pp = &e->path[i];
    if (i == 4 && e->depth > 12) {
      luaL_addstring(&msg, "...");
      i = e->depth - 4;  /* keep the first and the last parts */
      pp = &e->path[i];
    }
    if (pp->key != NULL) {
      if (i > 0) luaL_addchar(&msg, '.');
      luaL_addlstring(&msg, pp->key, pp->keylen < 64 ? pp->keylen : 64);
    }
    else {
      snprintf(num, sizeof(num), "[%lld]", (long long)pp->index);
      luaL_addstring(&msg, num);
    }
  }
  if (e->depth == 0)
    luaL_addstring(&msg, "value");
  luaL_addstring(&msg, ": ");
  luaL_addstring(&msg, what);
  luaL_pushresult(&msg);
  return lua_error(L);
}


static void need(encoder *e, size_t n) {
  if (!kbuf_reserve(e->b, n))
    kc_error(e->L, "json: not enough memory");
}


static void encode_string(encoder *e, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  kbuf *b = e->b;
  need(e, len + 2);
  kbuf_put(b, '"');
  while (p < end) {
    unsigned c = *p;
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      need(e, 2);
      kbuf_put(b, c);
      p++;
    }
    else if (c >= 0x80) {
      size_t n = utf8_seq(p, end);
      if (n == 0)
        encode_error(e, "string is not valid UTF-8");
      need(e, n + 1);
      kbuf_add(b, p, n);
      p += n;
    }
    else {
      need(e, 7);
      kbuf_put(b, '\\');
      switch (c) {
        case '"': kbuf_put(b, '"'); break;
        case '\\': kbuf_put(b, '\\'); break;
        case '\n': kbuf_put(b, 'n'); break;
        case '\r': kbuf_put(b, 'r'); break;
        case '\t': kbuf_put(b, 't'); break;
        case '\b': kbuf_put(b, 'b'); break;
        case '\f': kbuf_put(b, 'f'); break;
        default:
          kbuf_add(b, "u00", 3);
          kbuf_put(b, hex[c >> 4]);
          kbuf_put(b, hex[c & 15]);
      }
      p++;
    }
  }
  kbuf_put(b, '"');
}


static void encode_number(encoder *e, int idx) {
  char num[40];
  int n;
  lua_Number x;
  if (kc_isinteger(e->L, idx))
    n = format_integer(num, (long long)lua_tointeger(e->L, idx));
  else {
    x = lua_tonumber(e->L, idx);
    if (x != x || x == HUGE_VAL || x == -HUGE_VAL)
      encode_error(e, "number is NaN or infinite");
    if (floor(x) == x && fabs(x) <= 9007199254740992.0)
      n = format_integer(num, (long long)x);  /* integral: an id */
    else
      n = format_double(num, sizeof(num), (double)x);
  }
  need(e, (size_t)n);
  kbuf_add(e->b, num, (size_t)n);
}


static void encode_value(encoder *e, int idx);


static void enter(encoder *e, const char *key, size_t keylen,
                  lua_Integer index) {
  pathpart *pp;
  if (e->depth >= MAX_DEPTH)
    encode_error(e, "nested too deep (is there a cycle?)");
  if (!lua_checkstack(e->L, 4))
    encode_error(e, "nested too deep for the Lua stack");
  pp = &e->path[e->depth++];
  pp->key = key;
  pp->keylen = keylen;
  pp->index = index;
}


static void encode_array(encoder *e, int idx, size_t n) {
  size_t i;
  need(e, 1);
  kbuf_put(e->b, '[');
  for (i = 1; i <= n; i++) {
    if (i > 1) {
      need(e, 1);
      kbuf_put(e->b, ',');
    }
    enter(e, NULL, 0, (lua_Integer)i);
    lua_rawgeti(e->L, idx, (lua_Integer)i);
    encode_value(e, lua_gettop(e->L));
    lua_pop(e->L, 1);
    e->depth--;
  }
  need(e, 1);
  kbuf_put(e->b, ']');
}


/* Objects go out with their keys sorted, so the same table always gives
** the same bytes; kc_sorted_keys keeps the keys alive meanwhile. */
static void encode_object(encoder *e, int idx) {
  lua_State *L = e->L;
  ktext local[MAX_KEYS_ON_STACK], *keys;
  size_t n = 0, i;
  int anchor = lua_gettop(L) + 1;
  keys = kc_sorted_keys(L, idx, local, MAX_KEYS_ON_STACK, &n);
  if (keys == NULL)
    encode_error(e, "object key is not a string");
  need(e, 1);
  kbuf_put(e->b, '{');
  for (i = 0; i < n; i++) {
    if (i > 0) {
      need(e, 1);
      kbuf_put(e->b, ',');
    }
    enter(e, keys[i].s, keys[i].len, 0);
    encode_string(e, keys[i].s, keys[i].len);
    need(e, 1);
    kbuf_put(e->b, ':');
    lua_pushlstring(L, keys[i].s, keys[i].len);
    lua_rawget(L, idx);
    encode_value(e, lua_gettop(L));
    lua_pop(L, 1);
    e->depth--;
  }
  need(e, 1);
  kbuf_put(e->b, '}');
  lua_settop(L, anchor - 1);
}


/* A table marked with kiamo.array: its keys are indices (and maybe "n",
** the length, as table.pack writes it); missing items are null. Any
** other key is refused rather than dropped. */
static void encode_marked_array(encoder *e, int idx) {
  lua_State *L = e->L;
  lua_Number max = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TNUMBER) {
      lua_Number k = lua_tonumber(L, -1);
      if (!(k >= 1 && floor(k) == k && k <= (lua_Number)MAX_ARRAY))
        encode_error(e, "array has a key that is not an index");
      if (k > max) max = k;
    }
    else if (lua_type(L, -1) != LUA_TSTRING ||
             strcmp(lua_tostring(L, -1), "n") != 0)
      encode_error(e, "array has a key that is not an index");
  }
  lua_pushliteral(L, "n");
  lua_rawget(L, idx);
  if (lua_type(L, -1) == LUA_TNUMBER) {
    lua_Number n = lua_tonumber(L, -1);
    if (!(n >= max && floor(n) == n && n <= (lua_Number)MAX_ARRAY))
      encode_error(e, "array length n is not an integer >= its items");
    max = n;
  }
  else if (!lua_isnil(L, -1))
    encode_error(e, "array length n is not a number");
  lua_pop(L, 1);
  encode_array(e, idx, (size_t)max);
}


/* A box of core.integer: its digits, checked when it was made. */
static void encode_digits(encoder *e, int idx) {
  size_t n;
  const char *digits;
  lua_rawgeti(e->L, idx, 1);
  digits = lua_tolstring(e->L, -1, &n);
  if (digits == NULL || n == 0 || n > 20)
    encode_error(e, "kiamo.integer box without its digits");
  need(e, n);
  kbuf_add(e->b, digits, n);
  lua_pop(e->L, 1);
}


/* A plain table is an array when its keys are exactly 1..n (an empty
** table is an empty array, as the API's lists want); an object when its
** keys are all strings. Anything else is refused. */
static void encode_table(encoder *e, int idx) {
  lua_State *L = e->L;
  size_t count = 0, ints = 0, strings = 0, max = 0;
  if (lua_getmetatable(L, idx)) {
    int array = lua_rawequal(L, -1, e->array_mt);
    int object = lua_rawequal(L, -1, e->object_mt);
    int integer = lua_rawequal(L, -1, e->integer_mt);
    lua_pop(L, 1);
    if (integer) {
      encode_digits(e, idx);
      return;
    }
    if (array) {
      encode_marked_array(e, idx);
      return;
    }
    if (object) {
      encode_object(e, idx);
      return;
    }
  }
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    count++;
    if (lua_type(L, -1) == LUA_TSTRING)
      strings++;
    else if (lua_type(L, -1) == LUA_TNUMBER) {
      lua_Number k = lua_tonumber(L, -1);
      if (k >= 1 && floor(k) == k && k <= (lua_Number)MAX_ARRAY) {
        ints++;
        if ((size_t)k > max) max = (size_t)k;
      }
    }
  }
  if (count == 0 || (ints == count && max == count))
    encode_array(e, idx, count);
  else if (strings == count)
    encode_object(e, idx);
  else if (ints == count)
    encode_error(e, "array has holes (use kiamo.null for a null item)");
  else if (strings > 0 && ints > 0)
    encode_error(e, "table mixes array items and object keys");
  else
    encode_error(e, "table has keys that are neither 1..n nor strings");
}


static void encode_value(encoder *e, int idx) {
  lua_State *L = e->L;
  size_t len;
  const char *s;
  switch (lua_type(L, idx)) {
    case LUA_TNIL:
      need(e, 4);
      kbuf_add(e->b, "null", 4);
      break;
    case LUA_TBOOLEAN:
      need(e, 5);
      if (lua_toboolean(L, idx)) kbuf_add(e->b, "true", 4);
      else kbuf_add(e->b, "false", 5);
      break;
    case LUA_TNUMBER:
      encode_number(e, idx);
      break;
    case LUA_TSTRING:
      s = lua_tolstring(L, idx, &len);
      encode_string(e, s, len);
      break;
    case LUA_TTABLE:
      encode_table(e, idx);
      break;
    case LUA_TLIGHTUSERDATA:
      if (kj_isnull(L, idx)) {
        need(e, 4);
        kbuf_add(e->b, "null", 4);
        break;
      }
      /* FALLTHROUGH */
    default:
      lua_pushfstring(L, "cannot encode a %s", luaL_typename(L, idx));
      encode_error(e, lua_tostring(L, -1));
  }
}


/* Append the JSON text of the value at 'idx' to 'b'. Raises on what
** cannot be encoded; 'b' must be owned by something the raise releases
** (a box on the stack, or a userdata). */
void kj_encode_into(lua_State *L, int idx, kbuf *b) {
  encoder e;
  int top = lua_gettop(L);
  e.L = L;
  e.b = b;
  e.depth = 0;
  luaL_checkstack(L, 8, "json: stack overflow");
  luaL_getmetatable(L, KIAMO_ARRAY);
  luaL_getmetatable(L, KIAMO_OBJECT);
  luaL_getmetatable(L, KIAMO_INTEGER);
  e.array_mt = top + 1;
  e.object_mt = top + 2;
  e.integer_mt = top + 3;
  encode_value(&e, idx < 0 ? top + idx + 1 : idx);
  lua_settop(L, top);
}


/* json = core.encode(value) */
static int l_encode(lua_State *L) {
  kbuf *b;
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  b = kb_newbox(L);
  kj_encode_into(L, 1, b);
  lua_pushlstring(L, b->data, b->len);
  kb_freebox(L, 2);
  return 1;
}


/* value = core.decode(json); nil, message when it is not valid JSON */
static int l_decode(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  return kj_decode(L, s, len);
}


/* v = core.integer(x): x (a number or a string of decimal digits, with
** an optional "-") as an integer that JSON writes exactly, or nil when
** it is not one within 64 bits. With an integer type (5.3+) v is a Lua
** integer. Without one (LuaJIT) v is a number up to 2^53 in magnitude,
** and beyond that a box (metatable core.integer_mt, tostring gives the
** digits) that core.encode writes as a number. */
static int l_integer(lua_State *L) {
  size_t n, i;
  const char *s;
  int negative;
  unsigned long long u = 0;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    lua_Number x = lua_tonumber(L, 1);
    if (x != floor(x) || x < -9223372036854775808.0 ||
        x >= 9223372036854775808.0)
      return 0;
    if (kc_isinteger(L, 1))
      lua_pushvalue(L, 1);
    else
      kc_pushinteger(L, (long long)x);
    return 1;
  }
  if (lua_type(L, 1) != LUA_TSTRING)
    return 0;
  s = lua_tolstring(L, 1, &n);
  negative = n > 0 && s[0] == '-';
  i = (size_t)negative;
  if (i == n || n - i > 19 || (s[i] == '0' && n - i > 1))
    return 0;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return 0;
    u = u * 10 + (unsigned)(s[i] - '0');
  }
  if (u > (negative ? 9223372036854775808ULL : 9223372036854775807ULL))
    return 0;
  if (u <= 9007199254740992ULL || kc_hasintegers) {
    kc_pushinteger(L, negative ? (long long)(0ULL - u) : (long long)u);
    return 1;
  }
  lua_createtable(L, 1, 0);
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, 1);
  luaL_getmetatable(L, KIAMO_INTEGER);
  lua_setmetatable(L, -2);
  return 1;
}


static int integer_tostring(lua_State *L) {
  lua_rawgeti(L, 1, 1);
  return 1;
}


static const luaL_Reg json_funcs[] = {
  {"integer", l_integer},
  {"encode", l_encode},
  {"decode", l_decode},
  {NULL, NULL}
};


static void open_decoder(lua_State *L);


/* Add encode, decode and null to the module table on the top. */
void kj_open(lua_State *L) {
  luaL_setfuncs(L, json_funcs, 0);
  luaL_newmetatable(L, KIAMO_INTEGER);
  lua_pushliteral(L, KIAMO_INTEGER);
  lua_setfield(L, -2, "__name");
  lua_pushcfunction(L, integer_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_setfield(L, -2, "integer_mt");
  kj_pushnull(L);
  lua_setfield(L, -2, "null");
  open_decoder(L);
}

/* }====================================================== */


/*
** {======================================================
** Decoder
** =======================================================
*/

/* What a Lua state's decoder keeps from one decode to the next (answers
** of one API share their shapes and their keys):
** - the sizes of the last array and object completed at each depth: a
**   table made with room for what it will hold is never resized while
**   it fills, nor left with room it does not use;
** - the last object keys met, by a hash of their bytes: key[i] holds the
**   bytes of the string in slot i + 1 of the userdata's user value (a
**   table that keeps those strings alive), or is NULL; a key found there
**   is pushed without Lua hashing and interning it again. */
typedef struct size_hints {
  int items[HINT_DEPTH];
  int keys[HINT_DEPTH];
  const char *key[KEY_SLOTS];
  size_t key_len[KEY_SLOTS];
} size_hints;

static const char hints_key = 0;  /* its address: the registry key */


typedef struct decoder {
  lua_State *L;
  int array_mt, object_mt;  /* stack slots of the two marker metatables */
  int scratch_slot;         /* stack slot for 'scratch', nil until used */
  int keys_slot;            /* stack slot of the strings of hints->key, or
                               0 without */
  const char *start, *p, *end;
  kbuf *scratch;            /* for strings with escapes; NULL until one */
  size_hints *hints;
  int depth;
  const char *err;      /* what went wrong, when a parse returns 0 */
  const char *errpos;
} decoder;


static int fail(decoder *d, const char *what, const char *where) {
  d->err = what;
  d->errpos = where;
  return 0;
}


/* The buffer for strings with escapes, made at the first one. */
static kbuf *scratch(decoder *d) {
  if (d->scratch == NULL) {
    if (!lua_checkstack(d->L, 3))
      kc_error(d->L, "json: stack overflow");
    d->scratch = kb_newbox(d->L);
    lua_replace(d->L, d->scratch_slot);
  }
  return d->scratch;
}


/* The room to make for a table at the current depth. */
static int size_hint(decoder *d, const int *sizes) {
  int i = d->depth - 1;
  return i < HINT_DEPTH ? sizes[i] : FIRST_HINT;
}


static void remember_size(decoder *d, int *sizes, lua_Integer n) {
  int i = d->depth - 1;
  if (i < HINT_DEPTH)
    sizes[i] = n < MAX_HINT ? (int)n : MAX_HINT;
}


static void skip_space(decoder *d) {
  const char *p = d->p;
  while (p < d->end && (*p == ' ' || *p == '\n' || *p == '\r' ||
                        *p == '\t'))
    p++;
  d->p = p;
}


static int hex4(const char *p, unsigned long *out) {
  int i;
  unsigned long v = 0;
  for (i = 0; i < 4; i++) {
    int c = (unsigned char)p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned long)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned long)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned long)(c - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}


/* Decode one escape at d->p (just after the backslash) into 'b'. */
static int decode_escape(decoder *d, kbuf *b) {
  const char *p = d->p;
  unsigned long cp, lo;
  if (p >= d->end) return fail(d, "unfinished string", p);
  switch (*p) {
    case '"': case '\\': case '/': kbuf_put(b, *p); d->p = p + 1; return 1;
    case 'b': kbuf_put(b, '\b'); d->p = p + 1; return 1;
    case 'f': kbuf_put(b, '\f'); d->p = p + 1; return 1;
    case 'n': kbuf_put(b, '\n'); d->p = p + 1; return 1;
    case 'r': kbuf_put(b, '\r'); d->p = p + 1; return 1;
    case 't': kbuf_put(b, '\t'); d->p = p + 1; return 1;
    case 'u': break;
    default: return fail(d, "invalid escape in string", p - 1);
  }
  if (d->end - p < 5 || !hex4(p + 1, &cp))
    return fail(d, "invalid \\u escape", p - 1);
  p += 5;
  if (cp >= 0xdc00 && cp <= 0xdfff)
    return fail(d, "lone low surrogate in \\u escape", p - 6);
  if (cp >= 0xd800 && cp <= 0xdbff) {
    if (d->end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
        !hex4(p + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
      return fail(d, "lone high surrogate in \\u escape", p - 6);
    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    p += 6;
  }
  utf8_put(b, cp);
  d->p = p;
  return 1;
}


/* plain[c]: byte c stands for itself inside a JSON string (ASCII from
** the space up, other than the quote and the backslash). */
static const unsigned char plain[256] = {
#define P16  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
#define Z16  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
  Z16, Z16,
  1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* '"' */
  P16, P16,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,   /* '\\' */
  P16, P16,
  Z16, Z16, Z16, Z16, Z16, Z16, Z16, Z16
#undef P16
#undef Z16
};


/* Push the string whose opening quote is at d->p. Strings without
** escapes (nearly all) are pushed straight from the input. */
static int decode_string(decoder *d) {
  const unsigned char *p = (const unsigned char *)d->p + 1;
  const unsigned char *end = (const unsigned char *)d->end;
  const unsigned char *run = p;
  kbuf *b = NULL;
  for (;;) {
    while (p < end && plain[*p])
      p++;
    if (p >= end)
      return fail(d, "unfinished string", d->p);
    if (*p == '"')
      break;
    if (*p < 0x20)
      return fail(d, "control character in string", (const char *)p);
    if (*p >= 0x80) {
      size_t n = utf8_seq(p, end);
      if (n == 0)
        return fail(d, "string is not valid UTF-8", (const char *)p);
      p += n;
      continue;
    }
    if (b == NULL) {
      b = scratch(d);
      b->len = 0;
    }
    if (!kbuf_add(b, run, (size_t)(p - run)) || !kbuf_reserve(b, 4))
      kc_error(d->L, "json: not enough memory");
    d->p = (const char *)p + 1;
    if (!decode_escape(d, b))
      return 0;
    p = run = (const unsigned char *)d->p;
  }
  if (b != NULL) {
    if (!kbuf_add(b, run, (size_t)(p - run)))
      kc_error(d->L, "json: not enough memory");
    lua_pushlstring(d->L, b->data, b->len);
  }
  else
    lua_pushlstring(d->L, (const char *)run, (size_t)(p - run));
  d->p = (const char *)p + 1;
  return 1;
}


/* Push a 64-bit integer read from the text s[0..n). Without an integer
** type (LuaJIT) a value beyond 2^53 would be rounded: its digits are
** pushed as a string instead. */
static void push_integer(lua_State *L, long long v, const char *s,
                         size_t n) {
#if LUA_VERSION_NUM >= 503
  (void)s; (void)n;
  lua_pushinteger(L, (lua_Integer)v);
#else
  if (v <= 9007199254740992LL && v >= -9007199254740992LL)
    lua_pushnumber(L, (lua_Number)v);
  else
    lua_pushlstring(L, s, n);
#endif
}


static int is_digit(int c) {
  return c >= '0' && c <= '9';
}


/* Integers that fit in 64 bits become Lua integers (on LuaJIT, numbers
** when exact and strings of digits beyond 2^53); others are doubles. */
static int decode_number(decoder *d) {
  const char *s = d->p, *p = s, *end = d->end;
  int negative = 0, integral = 1, overflow = 0;
  unsigned long long u = 0;
  if (p < end && *p == '-') { negative = 1; p++; }
  if (p >= end || !is_digit((unsigned char)*p))
    return fail(d, "invalid number", s);
  if (*p == '0') {
    p++;
    if (p < end && is_digit((unsigned char)*p))
      return fail(d, "number with a leading zero", s);
  }
  else {
    for (; p < end && is_digit((unsigned char)*p); p++) {
      unsigned digit = (unsigned)(*p - '0');
      if (u > (~0ULL - digit) / 10) overflow = 1;
      else u = u * 10 + digit;
    }
  }
  if (p < end && *p == '.') {
    integral = 0;
    p++;
    if (p >= end || !is_digit((unsigned char)*p))
      return fail(d, "invalid number", s);
    while (p < end && is_digit((unsigned char)*p)) p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    integral = 0;
    p++;
    if (p < end && (*p == '+' || *p == '-')) p++;
    if (p >= end || !is_digit((unsigned char)*p))
      return fail(d, "invalid number", s);
    while (p < end && is_digit((unsigned char)*p)) p++;
  }
  d->p = p;
  if (integral && !overflow &&
      u <= (negative ? 9223372036854775808ULL : 9223372036854775807ULL)) {
    long long v = negative ? (long long)(0ULL - u) : (long long)u;
    push_integer(d->L, v, s, (size_t)(p - s));
  }
  else {
    double x = kj_strtod(s, (size_t)(p - s));
    if (x == HUGE_VAL || x == -HUGE_VAL)
      return fail(d, "number out of range", s);  /* could not go back */
    lua_pushnumber(d->L, (lua_Number)x);
  }
  return 1;
}


static int decode_value(decoder *d);


/* The number of items left in the array whose text goes on at 'p' (just
** after an item), skimmed without decoding: its commas outside strings
** and nested values. 0 when the text ends before the array. */
static size_t count_rest(const char *p, const char *end) {
  size_t items = 0;
  int depth = 0;
  while (p < end) {
    switch (*p++) {
      case '"':
        for (;;) {  /* to the closing quote: one after an even run of \\ */
          const char *q = (const char *)memchr(p, '"', (size_t)(end - p));
          const char *b = q;
          if (q == NULL)
            return 0;
          while (b > p && b[-1] == '\\')
            b--;
          p = q + 1;
          if ((q - b) % 2 == 0)
            break;
        }
        break;
      case '[': case '{':
        depth++;
        break;
      case ']': case '}':
        if (depth-- == 0)
          return items;
        break;
      case ',':
        if (depth == 0)
          items++;
        break;
      default:
        break;
    }
  }
  return 0;
}


/* A long array (its first LONG_ARRAY items decoded, in the table on the
** top) is remade with room for all its items at once: doubling as it
** fills would leave it with up to twice the room it needs. */
static void make_room(decoder *d, lua_Integer n) {
  lua_State *L = d->L;
  size_t rest = count_rest(d->p, d->end);
  lua_Integer i;
  if (rest == 0 || rest > MAX_ARRAY)
    return;  /* malformed, or claims too much: decoding will tell */
  lua_createtable(L, (int)(n + (lua_Integer)rest), 0);
  lua_pushvalue(L, d->array_mt);
  lua_setmetatable(L, -2);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -2, i);
    lua_rawseti(L, -2, i);
  }
  lua_replace(L, -2);
}


static int decode_array(decoder *d) {
  lua_State *L = d->L;
  lua_Integer n = 0;
  d->p++;
  lua_createtable(L, size_hint(d, d->hints->items), 0);
  lua_pushvalue(L, d->array_mt);
  lua_setmetatable(L, -2);
  skip_space(d);
  if (d->p < d->end && *d->p == ']') {
    d->p++;
    remember_size(d, d->hints->items, 0);
    return 1;
  }
  for (;;) {
    if (!decode_value(d))
      return 0;
    lua_rawseti(L, -2, ++n);
    if (n == LONG_ARRAY)
      make_room(d, n);
    skip_space(d);
    if (d->p >= d->end)
      return fail(d, "unfinished array", d->p);
    if (*d->p == ']') {
      d->p++;
      remember_size(d, d->hints->items, n);
      return 1;
    }
    if (*d->p != ',')
      return fail(d, "expected ',' or ']' in array", d->p);
    d->p++;
  }
}


/* Push the object key whose opening quote is at d->p: a plain one (no
** escape, ASCII) from the keys remembered when it is there. */
static int decode_key(decoder *d) {
  const unsigned char *s = (const unsigned char *)d->p + 1, *p = s;
  const unsigned char *end = (const unsigned char *)d->end;
  size_hints *h = d->hints;
  size_t len;
  unsigned slot;
  if (d->keys_slot == 0)
    return decode_string(d);
  while (p < end && plain[*p])
    p++;
  len = (size_t)(p - s);
  if (p >= end || *p != '"' || len > MAX_KEY_LEN)
    return decode_string(d);  /* anything else, errors included */
  slot = (unsigned)(len * 31 + (len ? s[0] * 7u + s[len / 2] * 3u +
                                      s[len - 1] : 0)) % KEY_SLOTS;
  if (h->key[slot] != NULL && h->key_len[slot] == len &&
      memcmp(h->key[slot], s, len) == 0)
    lua_rawgeti(d->L, d->keys_slot, (lua_Integer)slot + 1);
  else {
    h->key[slot] = NULL;  /* until the slot holds the new string */
    lua_pushlstring(d->L, (const char *)s, len);
    lua_pushvalue(d->L, -1);
    lua_rawseti(d->L, d->keys_slot, (lua_Integer)slot + 1);
    h->key[slot] = lua_tostring(d->L, -1);
    h->key_len[slot] = len;
  }
  d->p = (const char *)p + 1;
  return 1;
}


static int decode_object(decoder *d) {
  lua_State *L = d->L;
  lua_Integer n = 0;
  d->p++;
  lua_createtable(L, 0, size_hint(d, d->hints->keys));
  lua_pushvalue(L, d->object_mt);
  lua_setmetatable(L, -2);
  skip_space(d);
  if (d->p < d->end && *d->p == '}') {
    d->p++;
    remember_size(d, d->hints->keys, 0);
    return 1;
  }
  for (;;) {
    skip_space(d);
    if (d->p >= d->end || *d->p != '"')
      return fail(d, "expected a string key in object", d->p);
    if (!decode_key(d))
      return 0;
    skip_space(d);
    if (d->p >= d->end || *d->p != ':')
      return fail(d, "expected ':' after object key", d->p);
    d->p++;
    if (!decode_value(d))
      return 0;
    lua_rawset(L, -3);
    n++;
    skip_space(d);
    if (d->p >= d->end)
      return fail(d, "unfinished object", d->p);
    if (*d->p == '}') {
      d->p++;
      remember_size(d, d->hints->keys, n);
      return 1;
    }
    if (*d->p != ',')
      return fail(d, "expected ',' or '}' in object", d->p);
    d->p++;
  }
}


static int literal(decoder *d, const char *word, size_t n) {
  if ((size_t)(d->end - d->p) < n || memcmp(d->p, word, n) != 0)
    return fail(d, "unexpected character", d->p);
  d->p += n;
  return 1;
}


static int decode_value(decoder *d) {
  int ok;
  skip_space(d);
  if (d->p >= d->end)
    return fail(d, "unexpected end of input", d->p);
  switch (*d->p) {
    case '{': case '[':
      if (++d->depth > MAX_DEPTH)
        return fail(d, "nested too deep", d->p);
      if (!lua_checkstack(d->L, 3))
        return fail(d, "nested too deep for the Lua stack", d->p);
      ok = *d->p == '{' ? decode_object(d) : decode_array(d);
      d->depth--;
      return ok;
    case '"':
      return decode_string(d);
    case 't':
      if (!literal(d, "true", 4)) return 0;
      lua_pushboolean(d->L, 1);
      return 1;
    case 'f':
      if (!literal(d, "false", 5)) return 0;
      lua_pushboolean(d->L, 0);
      return 1;
    case 'n':
      if (!literal(d, "null", 4)) return 0;
      kj_pushnull(d->L);
      return 1;
    default:
      if (*d->p == '-' || is_digit((unsigned char)*d->p))
        return decode_number(d);
      return fail(d, "unexpected character", d->p);
  }
}


static void init_hints(size_hints *h) {
  int i;
  for (i = 0; i < HINT_DEPTH; i++)
    h->items[i] = h->keys[i] = FIRST_HINT;
  for (i = 0; i < KEY_SLOTS; i++) {
    h->key[i] = NULL;
    h->key_len[i] = 0;
  }
}


/* Keep the state's hints in the registry, with the table of its keys as
** their user value. */
static void open_decoder(lua_State *L) {
  lua_pushlightuserdata(L, (void *)&hints_key);
  init_hints((size_hints *)kc_newuserdata(L, sizeof(size_hints)));
  lua_createtable(L, KEY_SLOTS, 0);
  kc_setuservalue(L, -2);
  lua_rawset(L, LUA_REGISTRYINDEX);
}


/* Decode s[0..len) and push the value; on failure push nil and a message
** naming the byte offset. Returns the number of values pushed. Raises
** only when memory runs out. 's' must stay anchored meanwhile. */
int kj_decode(lua_State *L, const char *s, size_t len) {
  decoder d;
  size_hints fresh;
  int base = lua_gettop(L);
  luaL_checkstack(L, 8, "json: stack overflow");
  luaL_getmetatable(L, KIAMO_ARRAY);
  luaL_getmetatable(L, KIAMO_OBJECT);
  lua_pushlightuserdata(L, (void *)&hints_key);
  lua_rawget(L, LUA_REGISTRYINDEX);
  d.L = L;
  d.array_mt = base + 1;
  d.object_mt = base + 2;
  d.hints = (size_hints *)lua_touserdata(L, base + 3);
  d.keys_slot = 0;
  if (d.hints == NULL) {  /* the state's are missing: this decode's own */
    init_hints(&fresh);
    d.hints = &fresh;
    lua_pushnil(L);
  }
  else {
    kc_getuservalue(L, base + 3);
    if (lua_istable(L, base + 4))
      d.keys_slot = base + 4;
  }
  lua_pushnil(L);
  d.scratch_slot = base + 5;
  d.scratch = NULL;
  d.start = d.p = s;
  d.end = s + len;
  d.depth = 0;
  d.err = NULL;
  if (decode_value(&d)) {
    skip_space(&d);
    if (d.p == d.end) {
      lua_replace(L, base + 1);
      if (d.scratch != NULL)
        kb_freebox(L, d.scratch_slot);
      lua_settop(L, base + 1);
      return 1;
    }
    fail(&d, "unexpected data after the value", d.p);
  }
  if (d.scratch != NULL)
    kb_freebox(L, d.scratch_slot);
  lua_settop(L, base);
  lua_pushnil(L);
  lua_pushfstring(L, "json: at byte %d: %s", (int)(d.errpos - s) + 1,
                  d.err);
  return 2;
}

/* }====================================================== */
