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

static inline const char* chronos_http_reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "";
  }
}

#endif /* CHRONOS_HTTP_IMPL_HELPERS_H */
