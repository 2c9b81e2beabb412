/* Part of chronos/http_impl.h, the implementation of chronos/http.h:
 * the public helpers: reading stored fields, writing chunk headers, reason phrases.
 */
#ifndef CHRONOS_HTTP_IMPL_HELPERS_H
#define CHRONOS_HTTP_IMPL_HELPERS_H

#ifndef CHRONOS_HTTP_IMPL_H
#error "include chronos/http.h, not chronos/http_impl_helpers.h"
#endif

/* --- helpers -------------------------------------------------------------------------------- */

static inline int chronos_http_next_field(const char** cursor, const char* end,
                                          chronos_http_field* f) {
  const char *q = *cursor, *colon, *value_end;
  if (q >= end || *q == '\r' || *q == '\n') return 0;
  colon = (const char*)memchr(q, ':', (size_t)(end - q));
  if (colon == NULL) return 0;
  f->name = q;
  f->name_len = (size_t)(colon - q);
  f->value = chronos_http_skip_ows_(colon + 1, end);
  for (q = f->value; q < end && *q != '\r' && *q != '\n';) ++q;
  for (value_end = q; value_end > f->value && (value_end[-1] == ' ' || value_end[-1] == '\t');)
    --value_end;
  f->value_len = (size_t)(value_end - f->value);
  if (q < end && *q == '\r') ++q;
  if (q < end && *q == '\n') ++q;
  *cursor = q;
  return 1;
}

static inline const char* chronos_http_find_field(const chronos_http_message* m, const char* name,
                                                  size_t* value_len) {
  size_t i, n = m->fields != NULL ? m->field_count : 0;
  for (i = 0; i < n; ++i) {
    const chronos_http_field* f = &m->fields[i];
    size_t j = 0;
    while (j < f->name_len && name[j] != '\0' &&
           chronos_http_lower_(f->name[j]) == chronos_http_lower_(name[j]))
      ++j;
    if (j == f->name_len && name[j] == '\0') {
      if (value_len != NULL) *value_len = f->value_len;
      return f->value;
    }
  }
  return NULL;
}

static inline size_t chronos_http_chunk_header(char* out, uint64_t size) {
  static const char digits[] = "0123456789abcdef";
  char tmp[16];
  size_t n = 0, i;
  do {
    tmp[n++] = digits[size & 15];
    size >>= 4;
  } while (size != 0);
  for (i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  out[n] = '\r';
  out[n + 1] = '\n';
  return n + 2;
}

/* The phrases RFC 9110 §15 gives the codes a service commonly sends, sorted by code. */
static inline const char* chronos_http_reason(int status) {
  static const struct {
    short status;
    const char* text;
  } reasons[] = {
      {100, "Continue"},
      {101, "Switching Protocols"},
      {200, "OK"},
      {201, "Created"},
      {202, "Accepted"},
      {204, "No Content"},
      {206, "Partial Content"},
      {301, "Moved Permanently"},
      {302, "Found"},
      {303, "See Other"},
      {304, "Not Modified"},
      {307, "Temporary Redirect"},
      {308, "Permanent Redirect"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {408, "Request Timeout"},
      {409, "Conflict"},
      {411, "Length Required"},
      {413, "Content Too Large"},
      {414, "URI Too Long"},
      {415, "Unsupported Media Type"},
      {417, "Expectation Failed"},
      {426, "Upgrade Required"},
      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
      {505, "HTTP Version Not Supported"},
  };
  size_t lo = 0, hi = sizeof reasons / sizeof reasons[0];
  while (lo < hi) { /* the first entry not below status */
    const size_t mid = lo + (hi - lo) / 2;
    if (reasons[mid].status < status)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < sizeof reasons / sizeof reasons[0] && reasons[lo].status == status ? reasons[lo].text
                                                                                 : "";
}

#endif /* CHRONOS_HTTP_IMPL_HELPERS_H */
