/*
** wire_fuzz.c
** libFuzzer harness for src/core/wire.c and buffer.c: every kw_* function
** on arbitrary bytes, each result checked against what wire.h promises.
** See Copyright Notice in LICENSE.
*/

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define MAX_HEADERS  64   /* header lines remembered per input */


/* Report a broken promise and abort, so libFuzzer keeps the input. */
static void broken(const char *what) {
  fprintf(stderr, "wire_fuzz: %s\n", what);
  abort();
}


/* An exact-size heap copy, so that ASan sees any read past 'n'. */
static char *copy_of(const uint8_t *s, size_t n) {
  char *p = malloc(n > 0 ? n : 1);
  if (p == NULL)
    broken("out of memory in the harness");
  if (n > 0)
    memcpy(p, s, n);
  return p;
}


static int is_hex(int c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}


static int is_unreserved(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '~';
}


static int hex_value(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}


static int lower(int c) {
  return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}


/* Does s[0..n) hold a byte below 0x20 or DEL, other than 'allowed'? */
static int has_control(const char *s, size_t n, int allowed) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c < 0x20 && c != allowed) || c == 0x7f)
      return 1;
  }
  return 0;
}


/* A refusal must be a non-empty static text, never a slice of the input
** (which would let an error message quote a token). */
static void check_reason(const char *why, const char *s, size_t n) {
  if (why == NULL)
    return;
  if (why >= s && why < s + n)
    broken("a reason points into the input");
  if (why[0] == '\0')
    broken("an empty reason");
}


/* What every check promises about what it accepts. */
static void check_checks(const char *s, size_t n) {
  const char *why;
  size_t i;
  why = kw_check_token(s, n);
  check_reason(why, s, n);
  if (why == NULL) {
    if (n != KIAMO_TOKEN_LEN)
      broken("token of the wrong length accepted");
    for (i = 0; i < n; i++)
      if (!is_hex((unsigned char)s[i]))
        broken("token with a non-hex byte accepted");
  }
  why = kw_check_base_url(s, n);
  check_reason(why, s, n);
  if (why == NULL &&
      !((n > 7 && memcmp(s, "http://", 7) == 0 && s[7] != '/') ||
        (n > 8 && memcmp(s, "https://", 8) == 0 && s[8] != '/')))
    broken("url without http(s):// and a host accepted");
  for (i = 0; why == NULL && i < n; i++)
    if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || s[i] == '?' ||
        s[i] == '#')
      broken("url with a space, control, '?' or '#' accepted");
  why = kw_check_version(s, n);
  check_reason(why, s, n);
  if (why == NULL) {
    if (n == 0)
      broken("empty version accepted");
    for (i = 0; i < n; i++)
      if (!is_unreserved((unsigned char)s[i]))
        broken("version with a reserved byte accepted");
  }
  why = kw_check_method(s, n);
  check_reason(why, s, n);
  if (why == NULL && (n == 0 || has_control(s, n, -1) ||
                      memchr(s, ' ', n) || memchr(s, ':', n) ||
                      memchr(s, '/', n)))
    broken("method with a space, control, ':' or '/' accepted");
  why = kw_check_header_name(s, n);
  check_reason(why, s, n);
  if (why == NULL && (n == 0 || has_control(s, n, -1) ||
                      memchr(s, ' ', n) || memchr(s, ':', n)))
    broken("header name with a space, control or ':' accepted");
  why = kw_check_header_value(s, n);
  check_reason(why, s, n);
  if (why == NULL && has_control(s, n, '\t'))
    broken("header value with CR, LF or a control accepted");
  why = kw_check_text(s, n);
  check_reason(why, s, n);
  if (why == NULL && has_control(s, n, -1))
    broken("text with a control character accepted");
  why = kw_check_path(s, n);
  check_reason(why, s, n);
  if (why == NULL) {
    if (n == 0 || s[0] != '/')
      broken("path without a leading '/' accepted");
    for (i = 0; i < n; i++) {
      unsigned char c = (unsigned char)s[i];
      if (c <= ' ' || c >= 0x7f || c == '?' || c == '#')
        broken("path with a space, control, non-ASCII, '?' or '#'");
      if (c == '%' && (i + 2 >= n || !is_hex((unsigned char)s[i + 1]) ||
                       !is_hex((unsigned char)s[i + 2])))
        broken("path with a bare '%' accepted");
    }
  }
}


/* kw_escape appends to what the buffer holds: start it with a prefix of
** the input, escape the whole input, then check the prefix is intact, the
** rest is only unreserved bytes or %XX (upper-case hex), and decodes back
** to the input. */
static void check_escape(const char *s, size_t n) {
  kbuf b;
  size_t prefix = n > 0 ? (unsigned char)s[0] % 8 : 0, i, j;
  if (prefix > n)
    prefix = n;
  kbuf_init(&b);
  if (!kbuf_add(&b, s, prefix) || !kw_escape(&b, s, n))
    broken("kw_escape or kbuf_add ran out of memory");
  if (b.len < prefix + n || b.len > prefix + 3 * n || b.len > b.size)
    broken("kw_escape wrote a length out of bounds");
  if (prefix > 0 && memcmp(b.data, s, prefix) != 0)
    broken("kw_escape changed what the buffer held");
  for (i = prefix, j = 0; i < b.len; j++) {
    unsigned char c = (unsigned char)b.data[i];
    int byte = -1;
    if (j >= n)
      broken("kw_escape output decodes to more than its input");
    if (is_unreserved(c)) {
      byte = c;
      i++;
    }
    else if (c == '%' && b.len - i >= 3) {
      unsigned char h = (unsigned char)b.data[i + 1];
      unsigned char l = (unsigned char)b.data[i + 2];
      if (!is_hex(h) || !is_hex(l) || (h >= 'a' && h <= 'f') ||
          (l >= 'a' && l <= 'f'))
        broken("kw_escape wrote a '%' without two upper-case hex digits");
      byte = hex_value(h) * 16 + hex_value(l);
      if (is_unreserved(byte))
        broken("kw_escape encoded an unreserved byte");
      i += 3;
    }
    else
      broken("kw_escape wrote a byte that is neither unreserved nor %XX");
    if (byte != (unsigned char)s[j])
      broken("kw_escape output does not decode back to its input");
  }
  if (j != n)
    broken("kw_escape output decodes to less than its input");
  kbuf_free(&b);
}


typedef struct header {
  const char *name, *value;
  size_t namelen, valuelen;
} header;

typedef struct collected {
  const char *raw, *end;
  header lines[MAX_HEADERS];
  size_t n;        /* lines seen, also past MAX_HEADERS */
  size_t stop_at;  /* return 0 on this call (1-based), 0: never */
} collected;


static int inside(const collected *c, const char *p, size_t n) {
  return p >= c->raw && p <= c->end && n <= (size_t)(c->end - p);
}


static int is_space(int c) {
  return c == ' ' || c == '\t';
}


/* kw_each_header's callback: the slices lie inside the block, hold no
** line break, the name no ':', and both are trimmed. */
static int collect(void *ud, const char *name, size_t namelen,
                   const char *value, size_t valuelen) {
  collected *c = (collected *)ud;
  if (!inside(c, name, namelen) || !inside(c, value, valuelen))
    broken("kw_each_header gave a slice outside the block");
  if (name == c->raw)
    broken("kw_each_header read a header on the status line");
  if (memchr(name, '\n', namelen) || memchr(value, '\n', valuelen) ||
      memchr(name, ':', namelen))
    broken("kw_each_header gave a name or value across lines");
  if ((namelen > 0 && (is_space((unsigned char)name[namelen - 1]))) ||
      (valuelen > 0 && (is_space((unsigned char)value[0]) ||
                        is_space((unsigned char)value[valuelen - 1]))))
    broken("kw_each_header gave an untrimmed name or value");
  if (value < name + namelen)
    broken("kw_each_header gave a value before its name");
  if (c->n < MAX_HEADERS) {
    header *h = &c->lines[c->n];
    h->name = name;
    h->namelen = namelen;
    h->value = value;
    h->valuelen = valuelen;
  }
  c->n++;
  return c->stop_at == 0 || c->n < c->stop_at;
}


static int same_name(const char *a, size_t an, const char *b, size_t bn) {
  size_t i;
  if (an != bn)
    return 0;
  for (i = 0; i < an; i++)
    if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
      return 0;
  return 1;
}


/* kw_find_header(name) must give the count of lines kw_each_header gave
** with that name (any case) and their values joined by ", ". 'name' is
** looked up from an exact-size copy in another case. */
static void check_find(const collected *c, const char *name,
                       size_t namelen) {
  kbuf expected, out;
  char *copy = copy_of((const uint8_t *)name, namelen);
  size_t i;
  int count = 0, found;
  for (i = 0; i < namelen; i++) {
    int ch = (unsigned char)copy[i];
    if (ch >= 'a' && ch <= 'z') copy[i] = (char)(ch - 32);
    else if (ch >= 'A' && ch <= 'Z') copy[i] = (char)(ch + 32);
  }
  kbuf_init(&expected);
  kbuf_init(&out);
  for (i = 0; i < c->n && i < MAX_HEADERS; i++) {
    const header *h = &c->lines[i];
    if (!same_name(h->name, h->namelen, name, namelen))
      continue;
    if ((count > 0 && !kbuf_add(&expected, ", ", 2)) ||
        !kbuf_add(&expected, h->value, h->valuelen))
      broken("out of memory in the harness");
    count++;
  }
  found = kw_find_header(c->raw, (size_t)(c->end - c->raw), copy, namelen,
                         &out);
  if (c->n <= MAX_HEADERS &&
      (found != count || out.len != expected.len ||
       (out.len > 0 && memcmp(out.data, expected.data, out.len) != 0)))
    broken("kw_find_header disagrees with kw_each_header");
  if (found < 0 || (found == 0 && out.len != 0))
    broken("kw_find_header gave a value for a missing header");
  kbuf_free(&expected);
  kbuf_free(&out);
  free(copy);
}


static void check_headers(const char *raw, size_t len) {
  collected c;
  size_t i, all;
  int done;
  memset(&c, 0, sizeof(c));
  c.raw = raw;
  c.end = raw + len;
  if (kw_each_header(raw, len, collect, &c) != 1)
    broken("kw_each_header stopped though the callback never did");
  all = c.n;
  for (i = 0; i < c.n && i < 4; i++)
    check_find(&c, c.lines[i].name, c.lines[i].namelen);
  if (len > 0) {  /* an arbitrary name: a slice of the block */
    size_t at = (unsigned char)raw[0] % len;
    size_t n = len - at < 24 ? len - at : (unsigned char)raw[len - 1] % 24;
    check_find(&c, raw + at, n);
  }
  if (all > 0) {  /* the callback stops early: so must the walk */
    memset(&c.lines, 0, sizeof(c.lines));
    c.n = 0;
    c.stop_at = 1 + (unsigned char)raw[0] % all;
    done = kw_each_header(raw, len, collect, &c);
    if (done != 0 || c.n != c.stop_at)
      broken("kw_each_header went on after the callback stopped it");
  }
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = copy_of(data, size);
  kbuf empty;
  check_checks(s, size);
  check_escape(s, size);
  check_headers(s, size);
  free(s);
  kbuf_init(&empty);  /* a response without headers: no block at all */
  if (kw_find_header(NULL, 0, "Date", 4, &empty) != 0 || empty.len != 0)
    broken("kw_find_header found a header in an empty block");
  kbuf_free(&empty);
  return 0;
}
