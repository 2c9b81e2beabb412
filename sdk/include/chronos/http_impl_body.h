/* Part of chronos/http_impl.h, the implementation of chronos/http.h:
 * Content-Length and chunked bodies, chunk lines, trailers, and the connection's end.
 */
#ifndef CHRONOS_HTTP_IMPL_BODY_H
#define CHRONOS_HTTP_IMPL_BODY_H

#ifndef CHRONOS_HTTP_IMPL_H
#error "include chronos/http.h, not chronos/http_impl_body.h"
#endif
/* --- bodies --------------------------------------------------------------------------------- */

/* chunk-size [ chunk-ext ] CRLF from s, RFC 9112 §7.1:
 *   chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 * BWS is allowed only where the grammar has it: "5 \r\n" and "5;a \r\n" are refused. */
static inline int chronos_http_chunk_line_(chronos_http_parser* p, const char* s, const char* e,
                                           uint64_t* size, const char** next) {
  const char* q = s;
  uint64_t n = 0;
  int digit, r;
  while (q < e && (digit = chronos_http_hex_(*q)) >= 0) {
    if (n >> 59) return chronos_http_fail_(p, 400, "chunk size too large"); /* keep < 2^63 */
    n = n * 16 + (uint64_t)digit;
    ++q;
  }
  if (q == e) return 0;
  if (q == s) return chronos_http_fail_(p, 400, "invalid chunk size");
  for (;;) {
    const char *space = q, *word;
    q = chronos_http_skip_ows_(q, e);
    if (q == e) return 0;
    if (*q != ';') {
      if (q != space) return chronos_http_fail_(p, 400, "whitespace before a chunk line's end");
      break;
    }
    q = chronos_http_skip_ows_(q + 1, e);
    for (word = q; q < e && chronos_http_is_tchar_(*q);) ++q;
    if (q == e) return 0;
    if (q == word) return chronos_http_fail_(p, 400, "invalid chunk extension");
    space = q;
    q = chronos_http_skip_ows_(q, e);
    if (q == e) return 0;
    if (*q != '=') {
      q = space; /* a name without a value: the next round looks at what follows */
      continue;
    }
    q = chronos_http_skip_ows_(q + 1, e);
    if (q == e) return 0;
    if (*q == '"') { /* quoted-string */
      for (++q;; ++q) {
        if (q == e) return 0;
        const unsigned char c = (unsigned char)*q;
        if (c == '"') break;
        if (c == '\\' && ++q == e) return 0;
        const unsigned char d = (unsigned char)*q;
        if (d != '\t' && (d < 0x20 || d == 0x7f))
          return chronos_http_fail_(p, 400, "invalid chunk extension");
      }
      ++q;
    } else {
      for (word = q; q < e && chronos_http_is_tchar_(*q);) ++q;
      if (q == e) return 0;
      if (q == word) return chronos_http_fail_(p, 400, "invalid chunk extension");
    }
  }
  r = chronos_http_line_end_(p, q, e, next, "invalid chunk size line");
  if (r == 1) *size = n;
  return r;
}

/* The trailer section from t: field lines, then an empty line. */
static inline int chronos_http_trailers_(chronos_http_parser* p, const char* t, size_t len,
                                         chronos_http_body* body, size_t consumed_before) {
  const size_t view = len < p->max_head_ ? len : p->max_head_;
  const char* const e = t + view;
  size_t pos = p->line_;
  const char* next = NULL;
  int r;
  for (;;) {
    chronos_http_field f;
    if (pos == view) break;
    if (t[pos] == '\r' || t[pos] == '\n') {
      r = chronos_http_line_end_(p, t + pos, e, &next, "");
      if (r == 0) break;
      if (r != 1) return r;
      body->trailers = t;
      body->trailers_len = pos;
      body->consumed = consumed_before + (size_t)(next - t);
      chronos_http_next_message_(p, CHRONOS_HTTP_P_START_);
      return CHRONOS_HTTP_DONE;
    }
    if (t[pos] == ' ' || t[pos] == '\t') return chronos_http_fail_(p, 400, "obsolete line folding");
    r = chronos_http_field_line_(p, t + pos, e, &f, &next);
    if (r == 0) break;
    if (r != 1) return r;
    if (p->fields_ >= p->max_fields_) return chronos_http_fail_(p, 431, "too many trailer fields");
    ++p->fields_;
    pos = (size_t)(next - t);
    p->line_ = (uint32_t)pos;
  }
  if (len > p->max_head_) return chronos_http_fail_(p, 431, "trailer section too large");
  body->consumed = consumed_before; /* the trailer section is consumed only once whole */
  return CHRONOS_HTTP_AGAIN;
}

static inline int chronos_http_parse_body(chronos_http_parser* p, const char* data, size_t len,
                                          chronos_http_body* body) {
  size_t pos = 0;
  memset(body, 0, sizeof *body);
  body->data = body->trailers = "";
  for (;;) {
    switch (p->phase_) {
      case CHRONOS_HTTP_P_ERROR_:
        return CHRONOS_HTTP_ERROR;
      case CHRONOS_HTTP_P_UNTIL_CLOSE_:
        if (len == 0) return CHRONOS_HTTP_AGAIN;
        body->data = data;
        body->len = body->consumed = len;
        return CHRONOS_HTTP_DATA;
      case CHRONOS_HTTP_P_LENGTH_:
      case CHRONOS_HTTP_P_CHUNK_DATA_: {
        const size_t take = len - pos < p->length_ ? len - pos : (size_t)p->length_;
        body->consumed = pos + take;
        if (take == 0) return CHRONOS_HTTP_AGAIN;
        body->data = data + pos;
        body->len = take;
        p->length_ -= take;
        if (p->length_ == 0)
          p->phase_ = (uint8_t)(p->phase_ == CHRONOS_HTTP_P_LENGTH_ ? CHRONOS_HTTP_P_BODY_END_
                                                                    : CHRONOS_HTTP_P_CHUNK_END_);
        return CHRONOS_HTTP_DATA;
      }
      case CHRONOS_HTTP_P_CHUNK_END_: {
        const char* next = NULL;
        const int r = pos == len ? 0
                                 : chronos_http_line_end_(p, data + pos, data + len, &next,
                                                          "chunk data longer than its size");
        body->consumed = pos;
        if (r != 1) return r == 0 ? CHRONOS_HTTP_AGAIN : r;
        pos = (size_t)(next - data);
        p->phase_ = CHRONOS_HTTP_P_CHUNK_SIZE_;
        continue;
      }
      case CHRONOS_HTTP_P_CHUNK_SIZE_: {
        const size_t rest = len - pos;
        const size_t view =
            rest < CHRONOS_HTTP_CHUNK_LINE_MAX_ ? rest : CHRONOS_HTTP_CHUNK_LINE_MAX_;
        const char* next = NULL;
        uint64_t size = 0;
        const int r = chronos_http_chunk_line_(p, data + pos, data + pos + view, &size, &next);
        body->consumed = pos;
        if (r == 0) {
          if (rest > CHRONOS_HTTP_CHUNK_LINE_MAX_)
            return chronos_http_fail_(p, 400, "chunk-size line too long");
          return CHRONOS_HTTP_AGAIN;
        }
        if (r != 1) return r;
        pos = (size_t)(next - data);
        p->length_ = size;
        p->line_ = p->fields_ = 0;
        p->phase_ = (uint8_t)(size == 0 ? CHRONOS_HTTP_P_TRAILERS_ : CHRONOS_HTTP_P_CHUNK_DATA_);
        continue;
      }
      case CHRONOS_HTTP_P_TRAILERS_:
        return chronos_http_trailers_(p, data + pos, len - pos, body, pos);
      case CHRONOS_HTTP_P_BODY_END_:
        chronos_http_next_message_(p, CHRONOS_HTTP_P_START_);
        return CHRONOS_HTTP_DONE;
      default: /* no body pending */
        return CHRONOS_HTTP_DONE;
    }
  }
}

static inline int chronos_http_parser_finish(chronos_http_parser* p) {
  switch (p->phase_) {
    case CHRONOS_HTTP_P_ERROR_:
      return CHRONOS_HTTP_ERROR;
    case CHRONOS_HTTP_P_START_:
      return CHRONOS_HTTP_DONE;
    case CHRONOS_HTTP_P_BODY_END_:
    case CHRONOS_HTTP_P_UNTIL_CLOSE_:
      chronos_http_next_message_(p, CHRONOS_HTTP_P_START_);
      return CHRONOS_HTTP_DONE;
    case CHRONOS_HTTP_P_FIRST_:
    case CHRONOS_HTTP_P_FIELDS_:
      return chronos_http_fail_(p, 400, "connection closed inside a head");
    default:
      return chronos_http_fail_(p, 400, "connection closed inside a body");
  }
}

#endif /* CHRONOS_HTTP_IMPL_BODY_H */
