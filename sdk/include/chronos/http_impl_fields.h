/* Part of chronos/http_impl.h, the implementation of chronos/http.h:
 * field lines, and what Host, Content-Length, Transfer-Encoding, Connection, Expect
 * and Upgrade mean.
 */
#ifndef CHRONOS_HTTP_IMPL_FIELDS_H
#define CHRONOS_HTTP_IMPL_FIELDS_H

#ifndef CHRONOS_HTTP_IMPL_H
#error "include chronos/http.h, not chronos/http_impl_fields.h"
#endif

/* --- field lines ---------------------------------------------------------------------------- */

/* field-name ":" OWS field-value OWS CRLF, from s (not at SP, HTAB, CR or LF). */
static inline int chronos_http_field_line_(chronos_http_parser* p, const char* s, const char* e,
                                           chronos_http_field* f, const char** next) {
  const char *q = s, *value, *value_end;
  int r;
  while (q < e && chronos_http_is_tchar_(*q)) ++q;
  if (q == e) return 0;
  if (*q != ':') {
    if (*q == ' ' || *q == '\t')
      return chronos_http_fail_(p, 400, "whitespace between a field name and its colon");
    return chronos_http_fail_(p, 400, "invalid field name");
  }
  if (q == s) return chronos_http_fail_(p, 400, "empty field name");
  f->name = s;
  f->name_len = (size_t)(q - s);
  value = q = chronos_http_skip_ows_(q + 1, e);
  q = chronos_http_find_text_end_(q, e);
  if (q == e) return 0;
  if ((r = chronos_http_line_end_(p, q, e, next, "invalid character in a field value")) != 1)
    return r;
  for (value_end = q; value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t');)
    --value_end;
  f->value = value;
  f->value_len = (size_t)(value_end - value);
  return 1;
}

/* The next line of a head's or a trailer section's field lines, at s (< e): 1 for a field
 * line (in *f), 2 for the blank line that ends the section, else as the checkers above. */
static inline int chronos_http_section_line_(chronos_http_parser* p, const char* s, const char* e,
                                             chronos_http_field* f, const char** next) {
  if (*s == '\r' || *s == '\n') {
    const int r = chronos_http_line_end_(p, s, e, next, "");
    return r == 1 ? 2 : r;
  }
  if (*s == ' ' || *s == '\t') return chronos_http_fail_(p, 400, "obsolete line folding");
  return chronos_http_field_line_(p, s, e, f, next);
}

/* Content-Length: 1*DIGIT, below 2^63. */
static inline int chronos_http_length_field_(chronos_http_parser* p, const chronos_http_field* f) {
  uint64_t n = 0;
  size_t i;
  if (f->value_len == 0) return chronos_http_fail_(p, 400, "invalid Content-Length");
  for (i = 0; i < f->value_len; ++i) {
    const char c = f->value[i];
    if (c < '0' || c > '9') return chronos_http_fail_(p, 400, "invalid Content-Length");
    if (n > (UINT64_C(0x7fffffffffffffff) - (uint64_t)(c - '0')) / 10)
      return chronos_http_fail_(p, 400, "Content-Length too large");
    n = n * 10 + (uint64_t)(c - '0');
  }
  if ((p->seen_ & CHRONOS_HTTP_S_LENGTH_) && n != p->length_)
    return chronos_http_fail_(p, 400, "differing Content-Length values");
  p->seen_ |= CHRONOS_HTTP_S_LENGTH_;
  p->length_ = n;
  return 1;
}

/* token or quoted-string at q; returns the end, or NULL if neither is there. */
static inline const char* chronos_http_word_(const char* q, const char* e) {
  const char* start = q;
  if (q < e && *q == '"') return chronos_http_quoted_(q, e, &q) == 1 ? q : NULL;
  while (q < e && chronos_http_is_tchar_(*q)) ++q;
  return q == start ? NULL : q;
}

/* Transfer-Encoding: 1#( token *( OWS ";" OWS token BWS "=" BWS ( token / quoted-string ) ) ).
 * Strict: no empty list element, chunked once and without parameters. */
static inline int chronos_http_te_field_(chronos_http_parser* p, const chronos_http_field* f) {
  const char *q = f->value, *e = f->value + f->value_len;
  p->seen_ |= CHRONOS_HTTP_S_TE_;
  for (;;) {
    const char* coding;
    size_t coding_len;
    int params = 0;
    q = chronos_http_skip_ows_(q, e);
    if (q == e || *q == ',') return chronos_http_fail_(p, 400, "empty Transfer-Encoding element");
    coding = q;
    while (q < e && chronos_http_is_tchar_(*q)) ++q;
    coding_len = (size_t)(q - coding);
    if (coding_len == 0) return chronos_http_fail_(p, 400, "invalid Transfer-Encoding");
    for (;;) { /* parameters */
      const char* r = chronos_http_skip_ows_(q, e);
      if (r == e || *r != ';') break;
      const char* name = r = chronos_http_skip_ows_(r + 1, e);
      while (r < e && chronos_http_is_tchar_(*r)) ++r;
      if (r == name) return chronos_http_fail_(p, 400, "invalid Transfer-Encoding");
      r = chronos_http_skip_ows_(r, e);
      if (r == e || *r != '=') return chronos_http_fail_(p, 400, "invalid Transfer-Encoding");
      r = chronos_http_word_(chronos_http_skip_ows_(r + 1, e), e);
      if (r == NULL) return chronos_http_fail_(p, 400, "invalid Transfer-Encoding");
      q = r;
      params = 1;
    }
    if (chronos_http_ieq_(coding, coding_len, "chunked")) {
      if (p->seen_ & CHRONOS_HTTP_S_CHUNKED_)
        return chronos_http_fail_(p, 400, "chunked applied more than once");
      if (params) return chronos_http_fail_(p, 400, "parameters on chunked");
      p->seen_ |= CHRONOS_HTTP_S_CHUNKED_ | CHRONOS_HTTP_S_CHUNKED_LAST_;
    } else {
      p->seen_ |= CHRONOS_HTTP_S_CODING_;
      p->seen_ &= ~CHRONOS_HTTP_S_CHUNKED_LAST_;
    }
    q = chronos_http_skip_ows_(q, e);
    if (q == e) return 1;
    if (*q != ',') return chronos_http_fail_(p, 400, "invalid Transfer-Encoding");
    ++q;
  }
}

/* Connection: #token (empty elements are allowed and ignored, RFC 9110 §5.6.1). */
static inline int chronos_http_connection_field_(chronos_http_parser* p,
                                                 const chronos_http_field* f) {
  const char *q = f->value, *e = f->value + f->value_len;
  while (q < e) {
    const char* option;
    q = chronos_http_skip_ows_(q, e);
    option = q;
    while (q < e && chronos_http_is_tchar_(*q)) ++q;
    const size_t n = (size_t)(q - option);
    if (chronos_http_ieq_(option, n, "close")) p->seen_ |= CHRONOS_HTTP_S_CLOSE_;
    if (chronos_http_ieq_(option, n, "keep-alive")) p->seen_ |= CHRONOS_HTTP_S_KEEP_ALIVE_;
    if (chronos_http_ieq_(option, n, "upgrade")) p->seen_ |= CHRONOS_HTTP_S_CONN_UPGRADE_;
    q = chronos_http_skip_ows_(q, e);
    if (q < e && *q++ != ',') return chronos_http_fail_(p, 400, "invalid Connection");
  }
  return 1;
}

/* What a field means for the framing and the connection; others are only counted. `base` is
 * the first byte of the message (for the Host offset). */
static inline int chronos_http_field_meaning_(chronos_http_parser* p, const chronos_http_field* f,
                                              const char* base) {
  const int request = !(p->options_ & CHRONOS_HTTP_O_RESPONSE_);
  switch (f->name_len) {
    case 4:
      if (request && chronos_http_ieq_(f->name, 4, "host")) {
        if (p->seen_ & CHRONOS_HTTP_S_HOST_)
          return chronos_http_fail_(p, 400, "more than one Host");
        if (chronos_http_authority_(f->value, f->value_len) == 0)
          return chronos_http_fail_(p, 400, "invalid Host");
        p->seen_ |= CHRONOS_HTTP_S_HOST_;
        p->host_at_ = (uint32_t)(f->value - base);
        p->host_len_ = (uint32_t)f->value_len;
      }
      return 1;
    case 6:
      if (request && chronos_http_ieq_(f->name, 6, "expect") &&
          chronos_http_ieq_(f->value, f->value_len, "100-continue"))
        p->seen_ |= CHRONOS_HTTP_S_EXPECT_;
      return 1;
    case 7:
      if (chronos_http_ieq_(f->name, 7, "upgrade") && f->value_len > 0)
        p->seen_ |= CHRONOS_HTTP_S_UPGRADE_;
      return 1;
    case 10:
      return chronos_http_ieq_(f->name, 10, "connection") ? chronos_http_connection_field_(p, f)
                                                          : 1;
    case 14: /* RFC 9110 §9.3.6: a client MUST ignore both in a 2xx to CONNECT */
      return chronos_http_ieq_(f->name, 14, "content-length") &&
                     !(p->seen_ & CHRONOS_HTTP_S_TUNNEL_)
                 ? chronos_http_length_field_(p, f)
                 : 1;
    case 17:
      return chronos_http_ieq_(f->name, 17, "transfer-encoding") &&
                     !(p->seen_ & CHRONOS_HTTP_S_TUNNEL_)
                 ? chronos_http_te_field_(p, f)
                 : 1;
    default:
      return 1;
  }
}

#endif /* CHRONOS_HTTP_IMPL_FIELDS_H */
