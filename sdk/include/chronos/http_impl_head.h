/* Part of chronos/http_impl.h, the implementation of chronos/http.h:
 * reading a head, call after call, up to its blank line.
 */
#ifndef CHRONOS_HTTP_IMPL_HEAD_H
#define CHRONOS_HTTP_IMPL_HEAD_H

#ifndef CHRONOS_HTTP_IMPL_H
#error "include chronos/http.h, not chronos/http_impl_head.h"
#endif

/* Fills in the fields checked by earlier calls (whose views could not be kept). */
static inline void chronos_http_refill_fields_(const char* first_field, const char* end,
                                               chronos_http_message* m, size_t count) {
  size_t i;
  for (i = 0; i < count && chronos_http_next_field(&first_field, end, &m->fields[i]); ++i) {
  }
}

/* The blank line ends the head at `end` bytes: fill in `m` and set up the body.
 * `recorded_from`: the fields before it were checked by earlier calls, and so was the first line
 * (SIZE_MAX: this call checked the first line and stored it and every field in m). */
static inline int chronos_http_head_done_(chronos_http_parser* p, const char* data, size_t end,
                                          chronos_http_message* m, const char* method,
                                          size_t method_len, size_t recorded_from) {
  const int response = (p->options_ & CHRONOS_HTTP_O_RESPONSE_) != 0;
  int phase = CHRONOS_HTTP_P_START_;
  if (recorded_from != SIZE_MAX) { /* the first line was checked earlier: read it into m */
    const char* first_field = data + end;
    if (response)
      chronos_http_status_line_(p, data + p->start_, data + end, m, &first_field);
    else
      chronos_http_request_line_(p, data + p->start_, data + end, m, &first_field);
    if (m->fields != NULL && recorded_from > 0)
      chronos_http_refill_fields_(first_field, data + end, m, recorded_from);
  }
  m->head_length = end;
  m->field_count = p->fields_;
  m->flags = 0;
  m->framing = CHRONOS_HTTP_BODY_NONE;
  m->content_length = (p->seen_ & CHRONOS_HTTP_S_LENGTH_) ? p->length_ : 0;
  m->host = (p->seen_ & CHRONOS_HTTP_S_HOST_) ? data + p->host_at_ : "";
  m->host_len = (p->seen_ & CHRONOS_HTTP_S_HOST_) ? p->host_len_ : 0;
  if ((response ? chronos_http_response_framing_(p, m, method, method_len)
                : chronos_http_request_framing_(p, m)) != 1)
    return CHRONOS_HTTP_ERROR;
  if (m->framing == CHRONOS_HTTP_BODY_LENGTH) phase = CHRONOS_HTTP_P_LENGTH_;
  if (m->framing == CHRONOS_HTTP_BODY_CHUNKED) phase = CHRONOS_HTTP_P_CHUNK_SIZE_;
  if (m->framing == CHRONOS_HTTP_BODY_UNTIL_CLOSE) phase = CHRONOS_HTTP_P_UNTIL_CLOSE_;
  chronos_http_next_message_(p, phase);
  return CHRONOS_HTTP_DONE;
}

/* --- heads ----------------------------------------------------------------------------------
 * A head is read in steps, one a phase; each starts at p->line_ (the first line not checked by
 * an earlier call) and returns 1 when the next step may go on, 0 when the bytes ran out, or
 * CHRONOS_HTTP_ERROR. */

/* RFC 9112 §2.2: a server ignores empty lines before a request line. */
static inline int chronos_http_head_start_(chronos_http_parser* p, const char* data, size_t view) {
  const int lenient = (p->options_ & CHRONOS_HTTP_LENIENT_LF) != 0;
  const int response = (p->options_ & CHRONOS_HTTP_O_RESPONSE_) != 0;
  size_t pos = p->line_;
  while (!response && pos < view) {
    if (data[pos] == '\r' && pos + 1 < view && data[pos + 1] == '\n') {
      pos += 2;
    } else if (data[pos] == '\n' && lenient) {
      pos += 1;
    } else {
      break;
    }
  }
  p->line_ = (uint32_t)pos;
  if (pos == view || (!response && data[pos] == '\r' && pos + 1 == view)) return 0;
  p->start_ = (uint32_t)pos;
  p->phase_ = CHRONOS_HTTP_P_FIRST_;
  return 1;
}

/* The request or status line; `method` is the request's a response answers. */
static inline int chronos_http_head_first_line_(chronos_http_parser* p, const char* data,
                                                const char* e, chronos_http_message* m,
                                                const char* method, size_t method_len) {
  const int response = (p->options_ & CHRONOS_HTTP_O_RESPONSE_) != 0;
  const char* next = NULL;
  const int r = response ? chronos_http_status_line_(p, data + p->line_, e, m, &next)
                         : chronos_http_request_line_(p, data + p->line_, e, m, &next);
  if (r != 1) return r;
  if (response && m->status / 100 == 2 && method_len == 7 && memcmp(method, "CONNECT", 7) == 0)
    p->seen_ |= CHRONOS_HTTP_S_TUNNEL_;
  p->line_ = (uint32_t)(next - data);
  p->phase_ = CHRONOS_HTTP_P_FIELDS_;
  return 1;
}

/* Field lines up to the blank line, then the head is done (CHRONOS_HTTP_DONE, which is 1). */
static inline int chronos_http_head_fields_(chronos_http_parser* p, const char* data, size_t view,
                                            chronos_http_message* m, const char* method,
                                            size_t method_len, size_t recorded_from) {
  const char* const e = data + view;
  size_t pos = p->line_; /* a local too: read back from p each line, it cost instructions */
  const char* next = NULL;
  int r;
  for (;;) {
    chronos_http_field f;
    if (pos == view) return 0;
    if (data[pos] == '\r' || data[pos] == '\n') { /* the blank line? */
      if ((r = chronos_http_line_end_(p, data + pos, e, &next, "")) != 1) return r;
      return chronos_http_head_done_(p, data, (size_t)(next - data), m, method, method_len,
                                     recorded_from);
    }
    if (data[pos] == ' ' || data[pos] == '\t')
      return chronos_http_fail_(p, 400, "obsolete line folding");
    if ((r = chronos_http_field_line_(p, data + pos, e, &f, &next)) != 1) return r;
    if (p->fields_ >= p->max_fields_ || (m->fields != NULL && p->fields_ >= m->fields_capacity))
      return chronos_http_fail_(p, 431, "too many fields");
    if (chronos_http_field_meaning_(p, &f, data) != 1) return CHRONOS_HTTP_ERROR;
    if (m->fields != NULL) m->fields[p->fields_] = f;
    ++p->fields_;
    pos = (size_t)(next - data);
    p->line_ = (uint32_t)pos;
  }
}

/* The bytes ran out before the blank line: wait for more, unless the head is already too long. */
static inline int chronos_http_head_incomplete_(chronos_http_parser* p, size_t len) {
  if (len <= p->max_head_) return CHRONOS_HTTP_AGAIN;
  /* RFC 9112 §3: a request-target longer than the server parses is 414 */
  if (p->phase_ == CHRONOS_HTTP_P_FIRST_ && !(p->options_ & CHRONOS_HTTP_O_RESPONSE_))
    return chronos_http_fail_(p, 414, "request line too long");
  return chronos_http_fail_(p, 431, "head too large");
}

static inline int chronos_http_parse_head_(chronos_http_parser* p, const char* data, size_t len,
                                           chronos_http_message* m, const char* method,
                                           size_t method_len) {
  const size_t view = len < p->max_head_ ? len : p->max_head_;
  size_t recorded_from = p->fields_; /* see head_done_ */
  int r; /* a step that does not answer 1 ends the call (no r == 1 test before each step) */
  if (p->phase_ == CHRONOS_HTTP_P_START_ && (r = chronos_http_head_start_(p, data, view)) != 1)
    goto out;
  if (p->phase_ == CHRONOS_HTTP_P_FIRST_) {
    recorded_from = SIZE_MAX; /* m gets its values now; else head_done_ reads the line again */
    if ((r = chronos_http_head_first_line_(p, data, data + view, m, method, method_len)) != 1)
      goto out;
  }
  r = chronos_http_head_fields_(p, data, view, m, method, method_len, recorded_from);
out:
  return r == 0 ? chronos_http_head_incomplete_(p, len) : r;
}

static inline int chronos_http_parse_request(chronos_http_parser* p, const char* data, size_t len,
                                             chronos_http_message* m) {
  if (p->phase_ == CHRONOS_HTTP_P_ERROR_) return CHRONOS_HTTP_ERROR;
  if (p->phase_ >= CHRONOS_HTTP_P_BODY_)
    return chronos_http_fail_(p, 500, "a head parsed before the body before it was read");
  p->options_ &= (uint8_t)~CHRONOS_HTTP_O_RESPONSE_;
  return chronos_http_parse_head_(p, data, len, m, NULL, 0);
}

static inline int chronos_http_parse_response(chronos_http_parser* p, const char* data, size_t len,
                                              const char* method, size_t method_len,
                                              chronos_http_message* m) {
  if (p->phase_ == CHRONOS_HTTP_P_ERROR_) return CHRONOS_HTTP_ERROR;
  p->options_ |= CHRONOS_HTTP_O_RESPONSE_;
  if (p->phase_ >= CHRONOS_HTTP_P_BODY_)
    return chronos_http_fail_(p, 500, "a head parsed before the body before it was read");
  return chronos_http_parse_head_(p, data, len, m, method, method_len);
}

#endif /* CHRONOS_HTTP_IMPL_HEAD_H */
