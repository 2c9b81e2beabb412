/* Part of chronos/http_impl.h, the implementation of chronos/http.h:
 * Content-Length and chunked bodies, chunk lines, trailers, and the connection's end.
 */
#ifndef CHRONOS_HTTP_IMPL_BODY_H
#define CHRONOS_HTTP_IMPL_BODY_H

#ifndef CHRONOS_HTTP_IMPL_H
#error "include chronos/http.h, not chronos/http_impl_body.h"
#endif

/* --- chunk lines ----------------------------------------------------------------------------
 * RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF, with
 *   chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 * BWS is allowed only where the grammar has it: "5 \r\n" and "5;a \r\n" are refused. Each
 * checker returns 1 (*end just after what it read), 0 when the bytes ran out, or error. */

/* chunk-size: hex digits, kept below 2^63. */
static inline int chronos_http_chunk_hex_(chronos_http_parser* p, const char* s, const char* e,
                                          uint64_t* size, const char** end) {
  const char* q = s;
  uint64_t n = 0;
  int digit;
  while (q < e && (digit = chronos_http_hex_(*q)) >= 0) {
    if (n >> 59) return chronos_http_fail_(p, 400, "chunk size too large"); /* keep < 2^63 */
    n = n * 16 + (uint64_t)digit;
    ++q;
  }
  if (q == e) return 0;
  if (q == s) return chronos_http_fail_(p, 400, "invalid chunk size");
  *size = n;
  *end = q;
  return 1;
}

/* A token in a chunk extension: it may go on past e, so e itself is "ran out". */
static inline int chronos_http_chunk_token_(chronos_http_parser* p, const char* q, const char* e,
                                            const char** end) {
  const char* word = q;
  while (q < e && chronos_http_is_tchar_(*q)) ++q;
  if (q == e) return 0;
  if (q == word) return chronos_http_fail_(p, 400, "invalid chunk extension");
  *end = q;
  return 1;
}

/* One chunk-ext from its ";" at q: BWS name [ BWS "=" BWS ( token / quoted-string ) ]. */
static inline int chronos_http_chunk_ext_(chronos_http_parser* p, const char* q, const char* e,
                                          const char** end) {
  const char* name_end;
  int r;
  if ((r = chronos_http_chunk_token_(p, chronos_http_skip_ows_(q + 1, e), e, &name_end)) != 1)
    return r;
  q = chronos_http_skip_ows_(name_end, e);
  if (q == e) return 0;
  if (*q != '=') { /* a name without a value: the caller looks at what follows it */
    *end = name_end;
    return 1;
  }
  q = chronos_http_skip_ows_(q + 1, e);
  if (q == e) return 0;
  if (*q != '"') return chronos_http_chunk_token_(p, q, e, end);
  r = chronos_http_quoted_(q, e, end);
  return r >= 0 ? r : chronos_http_fail_(p, 400, "invalid chunk extension");
}

/* The whole chunk-size line from s; *size only once it is complete and valid. */
static inline int chronos_http_chunk_line_(chronos_http_parser* p, const char* s, const char* e,
                                           uint64_t* size, const char** next) {
  const char* q;
  uint64_t n = 0;
  int r;
  if ((r = chronos_http_chunk_hex_(p, s, e, &n, &q)) != 1) return r;
  for (;;) {
    const char* space = q;
    q = chronos_http_skip_ows_(q, e);
    if (q == e) return 0;
    if (*q != ';') {
      if (q != space) return chronos_http_fail_(p, 400, "whitespace before a chunk line's end");
      break;
    }
    if ((r = chronos_http_chunk_ext_(p, q, e, &q)) != 1) return r;
  }
  r = chronos_http_line_end_(p, q, e, next, "invalid chunk size line");
  if (r == 1) *size = n;
  return r;
}

/* --- bodies ----------------------------------------------------------------------------------
 * parse_body runs one step a phase from data + *pos: a step that reads framing moves *pos on
 * and returns 1 (the next phase goes on in the same call); one that ends the call returns what
 * the call answers. body->consumed is always what the call has used so far. */

/* The trailer section from t: field lines, then an empty line. */
static inline int chronos_http_trailers_(chronos_http_parser* p, const char* t, size_t len,
                                         chronos_http_body* body, size_t consumed_before) {
  const size_t view = len < p->max_head_ ? len : p->max_head_;
  size_t pos = p->line_;
  while (pos < view) {
    chronos_http_field f;
    const char* next = NULL;
    const int r = chronos_http_section_line_(p, t + pos, t + view, &f, &next);
    if (r == 0) break;
    if (r < 0) return r;
    if (r == 2) {
      body->trailers = t;
      body->trailers_len = pos;
      body->consumed = consumed_before + (size_t)(next - t);
      chronos_http_next_message_(p, CHRONOS_HTTP_P_START_);
      return CHRONOS_HTTP_DONE;
    }
    if (p->fields_ >= p->max_fields_) return chronos_http_fail_(p, 431, "too many trailer fields");
    ++p->fields_;
    pos = (size_t)(next - t);
    p->line_ = (uint32_t)pos;
  }
  if (len > p->max_head_) return chronos_http_fail_(p, 431, "trailer section too large");
  body->consumed = consumed_before; /* the trailer section is consumed only once whole */
  return CHRONOS_HTTP_AGAIN;
}

/* Content-Length bytes or chunk data: as many of the length_ left as are here. */
static inline int chronos_http_body_bytes_(chronos_http_parser* p, const char* data, size_t len,
                                           size_t pos, chronos_http_body* body) {
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

/* The CRLF after chunk data. */
static inline int chronos_http_body_chunk_end_(chronos_http_parser* p, const char* data, size_t len,
                                               size_t* pos, chronos_http_body* body) {
  const char* next = NULL;
  const int r = *pos == len ? 0
                            : chronos_http_line_end_(p, data + *pos, data + len, &next,
                                                     "chunk data longer than its size");
  body->consumed = *pos;
  if (r != 1) return r; /* CHRONOS_HTTP_AGAIN is 0 */
  *pos = (size_t)(next - data);
  p->phase_ = CHRONOS_HTTP_P_CHUNK_SIZE_;
  return 1;
}

/* A chunk-size line: the next chunk's data, or (size 0) the trailer section. */
static inline int chronos_http_body_chunk_size_(chronos_http_parser* p, const char* data,
                                                size_t len, size_t* pos, chronos_http_body* body) {
  const size_t rest = len - *pos;
  const size_t view = rest < CHRONOS_HTTP_CHUNK_LINE_MAX_ ? rest : CHRONOS_HTTP_CHUNK_LINE_MAX_;
  const char* next = NULL;
  uint64_t size = 0;
  const int r = chronos_http_chunk_line_(p, data + *pos, data + *pos + view, &size, &next);
  body->consumed = *pos;
  if (r == 0 && rest > CHRONOS_HTTP_CHUNK_LINE_MAX_)
    return chronos_http_fail_(p, 400, "chunk-size line too long");
  if (r != 1) return r;
  *pos = (size_t)(next - data);
  p->length_ = size;
  p->line_ = p->fields_ = 0;
  p->phase_ = (uint8_t)(size == 0 ? CHRONOS_HTTP_P_TRAILERS_ : CHRONOS_HTTP_P_CHUNK_DATA_);
  return 1;
}

static inline int chronos_http_parse_body(chronos_http_parser* p, const char* data, size_t len,
                                          chronos_http_body* body) {
  size_t pos = 0;
  int r = 1;
  memset(body, 0, sizeof *body);
  body->data = body->trailers = "";
  while (r == 1) {
    switch (p->phase_) {
      case CHRONOS_HTTP_P_ERROR_:
        return CHRONOS_HTTP_ERROR;
      case CHRONOS_HTTP_P_UNTIL_CLOSE_:
        if (len == 0) return CHRONOS_HTTP_AGAIN;
        body->data = data;
        body->len = body->consumed = len;
        return CHRONOS_HTTP_DATA;
      case CHRONOS_HTTP_P_LENGTH_:
      case CHRONOS_HTTP_P_CHUNK_DATA_:
        return chronos_http_body_bytes_(p, data, len, pos, body);
      case CHRONOS_HTTP_P_CHUNK_END_:
        r = chronos_http_body_chunk_end_(p, data, len, &pos, body);
        break;
      case CHRONOS_HTTP_P_CHUNK_SIZE_:
        r = chronos_http_body_chunk_size_(p, data, len, &pos, body);
        break;
      case CHRONOS_HTTP_P_TRAILERS_:
        return chronos_http_trailers_(p, data + pos, len - pos, body, pos);
      case CHRONOS_HTTP_P_BODY_END_:
        chronos_http_next_message_(p, CHRONOS_HTTP_P_START_);
        return CHRONOS_HTTP_DONE;
      default: /* no body pending */
        return CHRONOS_HTTP_DONE;
    }
  }
  return r;
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
