/*
** limit_common.h
** What the two limit programs share: a growing body buffer for libcurl,
** the clocks, the minimal field extraction and the request headers.
** See Copyright Notice in LICENSE.
*/

#ifndef LIMIT_COMMON_H
#define LIMIT_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#define TOKEN_HEADER \
  "Kiamo-Api-Token: 68d27ac06e53fef962c49a4b0d18691019c3a31a"

typedef struct body {
  char *data;
  size_t len, cap;
} body;


/* libcurl write callback: append to the body, growing it by doubling;
** returning less than asked aborts the transfer. */
static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  body *b = (body *)ud;
  size_t len = size * n;
  if (b->len + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    char *d;
    while (b->len + len + 1 > cap)
      cap *= 2;
    if ((d = (char *)realloc(b->data, cap)) == NULL)
      return 0;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, len);
  b->len += len;
  b->data[b->len] = '\0';
  return len;
}


static double seconds_of(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}


/* The integer value of the first field named by 'key' (written with its
** quotes and colon, as "\"id\":"): the least parsing that reads one
** field. Returns -1 when it is absent, 0 when 'key' is NULL (fetch only).
*/
static long read_field(const body *b, const char *key) {
  const char *p;
  if (key == NULL)
    return 0;
  if (b->data == NULL || (p = strstr(b->data, key)) == NULL)
    return -1;
  p += strlen(key);
  while (*p == ' ')
    p++;
  return strtol(p, NULL, 10);
}


/* The headers every client sends: the token and Accept. */
static struct curl_slist *request_headers(void) {
  struct curl_slist *h = curl_slist_append(NULL, TOKEN_HEADER);
  return curl_slist_append(h, "Accept: application/json");
}


/* URL, count and field from argv or the environment (BENCH_URL,
** BENCH_COUNT, BENCH_FIELD); the field "-" means fetch only. The key
** is built in 'keybuf' as "\"name\":". */
static void parse_args(int argc, char **argv, const char **url,
                       long *count, const char **key, char *keybuf,
                       size_t keysize) {
  const char *u = argc > 1 ? argv[1] : getenv("BENCH_URL");
  const char *c = argc > 2 ? argv[2] : getenv("BENCH_COUNT");
  const char *f = argc > 3 ? argv[3] : getenv("BENCH_FIELD");
  if (u == NULL) {
    fprintf(stderr, "usage: %s URL [COUNT [FIELD]]  (or BENCH_URL, "
            "BENCH_COUNT, BENCH_FIELD)\n", argv[0]);
    exit(2);
  }
  if (f == NULL)
    f = "id";
  *key = NULL;
  if (strcmp(f, "-") != 0) {
    snprintf(keybuf, keysize, "\"%s\":", f);
    *key = keybuf;
  }
  *url = u;
  *count = c ? strtol(c, NULL, 10) : 20000;
  if (*count < 1 || *count > 10000000) {
    fprintf(stderr, "%s: count must be 1 to 10000000\n", argv[0]);
    exit(2);
  }
}

#endif
