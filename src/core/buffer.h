/*
** buffer.h
** Growable byte buffers for the C core; no Lua here.
** See Copyright Notice in LICENSE.
*/

#ifndef kiamo_buffer_h
#define kiamo_buffer_h

#include <stddef.h>

/* A buffer owns 'data' (malloc'd, may be NULL while 'size' is 0). 'len'
** bytes are used. Functions that can grow it return 0 when memory runs
** out and leave the buffer as it was. */
typedef struct kbuf {
  char *data;
  size_t len;
  size_t size;
} kbuf;

void kbuf_init(kbuf *b);
void kbuf_free(kbuf *b);
int kbuf_reserve(kbuf *b, size_t extra);
int kbuf_add(kbuf *b, const void *p, size_t n);
int kbuf_addstr(kbuf *b, const char *s);

/* A slice of text that something else owns, and the qsort comparator
** that orders slices bytewise (shorter first on a common prefix). */
typedef struct ktext {
  const char *s;
  size_t len;
} ktext;

int ktext_compare(const void *a, const void *b);

/* Append one byte; the caller has reserved room for it. */
#define kbuf_put(b, c)  ((b)->data[(b)->len++] = (char)(c))

#endif
