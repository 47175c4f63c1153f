/*
** wire.c
** What the core checks and writes on the wire; no Lua here.
** See Copyright Notice in LICENSE.
*/

#include <string.h>

#include "wire.h"


static int is_hex(int c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}


/* RFC 3986 unreserved characters */
static int is_unreserved(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '~';
}


/* RFC 9110 token characters, for methods and header names */
static int is_tchar(int c) {
  return is_unreserved(c) || (c != 0 && strchr("!#$%&'*+^`|", c) != NULL);
}


static int has_ctl(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7f)
      return 1;
  }
  return 0;
}


const char *kw_check_token(const char *s, size_t n) {
  size_t i;
  if (n != KIAMO_TOKEN_LEN)
    return "must be 40 hexadecimal characters";
  for (i = 0; i < n; i++)
    if (!is_hex((unsigned char)s[i]))
      return "must be 40 hexadecimal characters";
  return NULL;
}


const char *kw_check_base_url(const char *s, size_t n) {
  size_t i, start;
  if (n >= 7 && memcmp(s, "http://", 7) == 0)
    start = 7;
  else if (n >= 8 && memcmp(s, "https://", 8) == 0)
    start = 8;
  else
    return "must start with http:// or https://";
  if (start == n || s[start] == '/')
    return "has no host";
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c >= 0x7f)
      return "contains a space, a control or a non-ASCII character";
    if (c == '?' || c == '#')
      return "must not contain a query or a fragment";
    if (c == '\\')
      return "must not contain a backslash";
    if (c == '@' && memchr(s + start, '/', i - start) == NULL)
      return "must not hold credentials (they would show in errors)";
  }
  return NULL;
}


/* Is s[0..n) "." or ".."? A URL resolver would remove such a segment. */
static int is_dot_segment(const char *s, size_t n) {
  return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}


const char *kw_check_version(const char *s, size_t n) {
  size_t i;
  if (n == 0)
    return "is empty";
  if (is_dot_segment(s, n))
    return "must not be '.' or '..'";
  for (i = 0; i < n; i++)
    if (!is_unreserved((unsigned char)s[i]))
      return "must hold only letters, digits, '.', '_', '-' or '~'";
  return NULL;
}


const char *kw_check_method(const char *s, size_t n) {
  size_t i;
  if (n == 0)
    return "is empty";
  for (i = 0; i < n; i++)
    if (!is_tchar((unsigned char)s[i]))
      return "is not an HTTP method";
  return NULL;
}


const char *kw_check_path(const char *s, size_t n) {
  size_t i;
  if (n == 0 || s[0] != '/')
    return "must start with '/'";
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c >= 0x7f)
      return "contains a space, a control or a non-ASCII character";
    if (c == '?' || c == '#')
      return "must not contain '?' or '#' (give the query as a table)";
    if (c == '%' && (i + 2 >= n || !is_hex((unsigned char)s[i + 1]) ||
                     !is_hex((unsigned char)s[i + 2])))
      return "contains a '%' that is not a percent-encoding";
    if (c == '/') {  /* the segment that starts after this slash */
      const char *seg = s + i + 1, *next = memchr(seg, '/', n - i - 1);
      size_t len = next ? (size_t)(next - seg) : n - i - 1;
      if (is_dot_segment(seg, len))
        return "must not contain '.' or '..' segments";
    }
  }
  return NULL;
}


const char *kw_check_header_name(const char *s, size_t n) {
  size_t i;
  if (n == 0)
    return "is empty";
  for (i = 0; i < n; i++)
    if (!is_tchar((unsigned char)s[i]))
      return "is not a header name";
  return NULL;
}


const char *kw_check_header_value(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return "contains CR, LF or another control character";
  }
  return NULL;
}


const char *kw_check_text(const char *s, size_t n) {
  return has_ctl(s, n) ? "contains a control character" : NULL;
}


int kw_escape(kbuf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  if (!kbuf_reserve(b, 3 * n))
    return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (is_unreserved(c))
      kbuf_put(b, c);
    else {
      kbuf_put(b, '%');
      kbuf_put(b, hex[c >> 4]);
      kbuf_put(b, hex[c & 15]);
    }
  }
  return 1;
}


static int lower(int c) {
  return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}


static int same_name(const char *a, const char *b, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
      return 0;
  return 1;
}


static int is_space(int c) {
  return c == ' ' || c == '\t';
}


int kw_each_header(const char *raw, size_t len, kw_header_fn f, void *ud) {
  const char *p, *end;
  int first = 1;
  if (len == 0)
    return 1;  /* no response yet: 'raw' may be NULL, and NULL + 0 is UB */
  p = raw;
  end = raw + len;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = eol ? eol : end;
    const char *colon, *v, *ve;
    const char *next = eol ? eol + 1 : end;
    if (line_end > p && line_end[-1] == '\r')
      line_end--;
    colon = first ? NULL : memchr(p, ':', (size_t)(line_end - p));
    first = 0;  /* the status line holds no header */
    if (colon != NULL && colon > p) {
      const char *ne = colon;
      while (ne > p && is_space((unsigned char)ne[-1]))
        ne--;
      v = colon + 1;
      ve = line_end;
      while (v < ve && is_space((unsigned char)*v))
        v++;
      while (ve > v && is_space((unsigned char)ve[-1]))
        ve--;
      if (!f(ud, p, (size_t)(ne - p), v, (size_t)(ve - v)))
        return 0;
    }
    p = next;
  }
  return 1;
}


typedef struct finder {
  const char *name;
  size_t namelen;
  kbuf *out;
  int found;
} finder;


static int find_one(void *ud, const char *name, size_t namelen,
                    const char *value, size_t valuelen) {
  finder *fd = (finder *)ud;
  if (namelen != fd->namelen || !same_name(name, fd->name, namelen))
    return 1;
  if ((fd->found > 0 && !kbuf_add(fd->out, ", ", 2)) ||
      !kbuf_add(fd->out, value, valuelen)) {
    fd->found = -1;
    return 0;
  }
  fd->found++;
  return 1;
}


int kw_find_header(const char *raw, size_t len, const char *name,
                   size_t namelen, kbuf *out) {
  finder fd;
  fd.name = name;
  fd.namelen = namelen;
  fd.out = out;
  fd.found = 0;
  kw_each_header(raw, len, find_one, &fd);
  return fd.found;
}
