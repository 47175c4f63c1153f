/*
** buffer.c
** Growable byte buffers for the C core; no Lua here.
** See Copyright Notice in LICENSE.
*/

#include <stdlib.h>
#include <string.h>

#include "buffer.h"


void kbuf_init(kbuf *b) {
  b->data = NULL;
  b->len = b->size = 0;
}


void kbuf_free(kbuf *b) {
  free(b->data);
  kbuf_init(b);
}


/* Make room for 'extra' more bytes, doubling so that appends are
** amortised O(1). */
int kbuf_reserve(kbuf *b, size_t extra) {
  size_t need, size;
  char *p;
  if (b->size - b->len >= extra)
    return 1;
  if (extra > (size_t)-1 / 2 - b->len)
    return 0;  /* overflow */
  need = b->len + extra;
  size = b->size ? b->size : 256;
  while (size < need)
    size *= 2;
  p = realloc(b->data, size);
  if (p == NULL)
    return 0;
  b->data = p;
  b->size = size;
  return 1;
}


int kbuf_add(kbuf *b, const void *p, size_t n) {
  if (!kbuf_reserve(b, n))
    return 0;
  if (n > 0)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  return 1;
}


int kbuf_addstr(kbuf *b, const char *s) {
  return kbuf_add(b, s, strlen(s));
}


int ktext_compare(const void *a, const void *b) {
  const ktext *x = (const ktext *)a, *y = (const ktext *)b;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = n ? memcmp(x->s, y->s, n) : 0;
  return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}
