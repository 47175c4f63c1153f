/*
** limit_multi.c
** The limit for concurrent requests: plain C over libcurl's multi
** interface, a fixed number of easy handles (32 by default) kept busy
** until COUNT requests are done; each reads the whole body and one
** integer field of it. Connections are reused from the multi's cache.
**   limit_multi URL [COUNT [FIELD [PARALLEL]]]
** prints wall=, cpu=, n=, field= (BENCH_PARALLEL sets PARALLEL too).
** See Copyright Notice in LICENSE.
*/

#include "limit_common.h"

#define WARMUP 200
#define MAX_PARALLEL 256


typedef struct slot {
  CURL *easy;
  body b;
} slot;


/* Run 'count' requests with at most 'parallel' in flight; returns the
** number that failed and stores the last field read in '*field'. */
static long run(CURLM *m, slot *slots, int parallel, long count,
                const char *key, long *field) {
  long started = 0, done = 0, bad = 0;
  int i, running = 0, left;
  CURLMsg *msg;
  for (i = 0; i < parallel && started < count; i++, started++) {
    slots[i].b.len = 0;
    curl_multi_add_handle(m, slots[i].easy);
  }
  while (done < count) {
    curl_multi_perform(m, &running);
    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
      slot *s = NULL;
      long status = 0;
      if (msg->msg != CURLMSG_DONE)
        continue;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
      curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
      if (msg->data.result != CURLE_OK || status != 200)
        bad++;
      *field = read_field(&s->b, key);
      if (*field < 0)
        bad++;
      curl_multi_remove_handle(m, s->easy);
      done++;
      if (started < count) {
        started++;
        s->b.len = 0;
        curl_multi_add_handle(m, s->easy);
      }
    }
    if (done < count)
      curl_multi_poll(m, NULL, 0, 1000, NULL);
  }
  return bad;
}


int main(int argc, char **argv) {
  const char *url, *key;
  const char *p = argc > 4 ? argv[4] : getenv("BENCH_PARALLEL");
  char keybuf[64];
  long count, field = 0, bad;
  int i, parallel = p ? atoi(p) : 32;
  double wall, cpu;
  slot slots[MAX_PARALLEL];
  struct curl_slist *headers;
  CURLM *m;
  parse_args(argc, argv, &url, &count, &key, keybuf, sizeof keybuf);
  if (parallel < 1 || parallel > MAX_PARALLEL) {
    fprintf(stderr, "%s: parallel must be 1 to %d\n", argv[0],
            MAX_PARALLEL);
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  headers = request_headers();
  m = curl_multi_init();
  for (i = 0; i < parallel; i++) {
    slot *s = &slots[i];
    s->b.data = NULL;
    s->b.len = s->b.cap = 0;
    s->easy = curl_easy_init();
    curl_easy_setopt(s->easy, CURLOPT_URL, url);
    curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, (void *)&s->b);
    curl_easy_setopt(s->easy, CURLOPT_PRIVATE, (char *)s);
  }
  bad = run(m, slots, parallel, WARMUP, key, &field);
  wall = seconds_of(CLOCK_MONOTONIC);
  cpu = seconds_of(CLOCK_PROCESS_CPUTIME_ID);
  bad += run(m, slots, parallel, count, key, &field);
  wall = seconds_of(CLOCK_MONOTONIC) - wall;
  cpu = seconds_of(CLOCK_PROCESS_CPUTIME_ID) - cpu;
  printf("wall=%.6f cpu=%.6f n=%ld field=%ld parallel=%d bad=%ld\n", wall,
         cpu, count, field, parallel, bad);
  for (i = 0; i < parallel; i++) {
    curl_easy_cleanup(slots[i].easy);
    free(slots[i].b.data);
  }
  curl_multi_cleanup(m);
  curl_slist_free_all(headers);
  curl_global_cleanup();
  return bad ? 1 : 0;
}
