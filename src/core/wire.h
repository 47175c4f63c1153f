/*
** wire.h
** What the core checks and writes on the wire: tokens, URLs, paths,
** query strings, header lines; no Lua here, so it can be fuzzed alone.
** See Copyright Notice in LICENSE.
*/

#ifndef kiamo_wire_h
#define kiamo_wire_h

#include <stddef.h>

#include "buffer.h"

#define KIAMO_TOKEN_LEN  40

/* Each check returns NULL when 's' (of 'n' bytes) is acceptable, else a
** static lower-case reason that never quotes the input. */
const char *kw_check_token(const char *s, size_t n);
const char *kw_check_base_url(const char *s, size_t n);
const char *kw_check_version(const char *s, size_t n);
const char *kw_check_method(const char *s, size_t n);
const char *kw_check_path(const char *s, size_t n);
const char *kw_check_header_name(const char *s, size_t n);
const char *kw_check_header_value(const char *s, size_t n);
const char *kw_check_text(const char *s, size_t n);

/* Append 's' percent-encoded: every byte but RFC 3986's unreserved ones
** becomes %XX. Returns 0 when memory runs out. */
int kw_escape(kbuf *b, const char *s, size_t n);

/* Find header 'name' (case-insensitive) in 'raw', the header block of one
** response as received (status line, then "Name: value" lines ended by
** CRLF or LF). Appends its value to 'out', repeated headers joined by
** ", ", values trimmed. Returns the number of occurrences found, or -1
** when memory runs out. */
int kw_find_header(const char *raw, size_t len, const char *name,
                   size_t namelen, kbuf *out);

/* Call 'f' for each "Name: value" line of 'raw' with the trimmed name and
** value; stops and returns 0 when 'f' does. Returns 1 when done. */
typedef int (*kw_header_fn)(void *ud, const char *name, size_t namelen,
                            const char *value, size_t valuelen);
int kw_each_header(const char *raw, size_t len, kw_header_fn f, void *ud);

#endif
