/*
** limit_seq.c
** The limit for sequential requests: plain C over libcurl, one easy
** handle in a loop on one keep-alive connection. Each request reads the
** whole body and one integer field of it.
**   limit_seq URL [COUNT [FIELD]]   prints wall=, cpu=, n=, field=
** FIELD "-" reads no field (fetch only); BENCH_WARMUP sets the number
** of untimed requests first (default 200).
** See Copyright Notice in LICENSE.
*/

#include "limit_common.h"

#define WARMUP 200


int main(int argc, char **argv) {
  const char *url, *key;
  char keybuf[64];
  const char *w = getenv("BENCH_WARMUP");
  long count, i, field = 0, bad = 0, warmup = w ? atol(w) : WARMUP;
  double wall, cpu;
  body b = {NULL, 0, 0};
  struct curl_slist *headers;
  CURL *e;
  parse_args(argc, argv, &url, &count, &key, keybuf, sizeof keybuf);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  headers = request_headers();
  e = curl_easy_init();
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)&b);
  wall = cpu = 0;
  for (i = -warmup; i < count; i++) {
    long status = 0;
    if (i == 0) {
      wall = seconds_of(CLOCK_MONOTONIC);
      cpu = seconds_of(CLOCK_PROCESS_CPUTIME_ID);
    }
    b.len = 0;
    if (curl_easy_perform(e) != CURLE_OK)
      bad++;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    field = read_field(&b, key);
    if (status != 200 || field < 0)
      bad++;
  }
  wall = seconds_of(CLOCK_MONOTONIC) - wall;
  cpu = seconds_of(CLOCK_PROCESS_CPUTIME_ID) - cpu;
  printf("wall=%.6f cpu=%.6f n=%ld field=%ld bytes=%zu bad=%ld\n", wall,
         cpu, count, field, b.len, bad);
  curl_easy_cleanup(e);
  curl_slist_free_all(headers);
  free(b.data);
  curl_global_cleanup();
  return bad ? 1 : 0;
}
