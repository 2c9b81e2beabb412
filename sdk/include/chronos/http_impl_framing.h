/* Part of chronos/http_impl.h, the implementation of chronos/http.h:
 * how a complete head frames its body and whether the connection stays open.
 */
#ifndef CHRONOS_HTTP_IMPL_FRAMING_H
#define CHRONOS_HTTP_IMPL_FRAMING_H

#ifndef CHRONOS_HTTP_IMPL_H
#error "include chronos/http.h, not chronos/http_impl_framing.h"
#endif

/* --- the end of a head: framing (RFC 9112 §6) ----------------------------------------------- */

/* RFC 9112 §9.3: whether the connection persists after this message, as its fields say:
 * HTTP/1.1 unless "close", HTTP/1.0 only with "keep-alive". (In this form, not with an early
 * return: that one cost the parser 0.4-0.8% more instructions a head, callgrind.) */
static inline int chronos_http_persistent_(uint32_t seen, int http11) {
  return http11 ? !(seen & CHRONOS_HTTP_S_CLOSE_)
                : (seen & CHRONOS_HTTP_S_KEEP_ALIVE_) && !(seen & CHRONOS_HTTP_S_CLOSE_);
}

static inline int chronos_http_request_framing_(chronos_http_parser* p, chronos_http_message* m) {
  const uint32_t seen = p->seen_;
  const int http11 = m->version_minor >= 1;
  if (http11 && !(seen & CHRONOS_HTTP_S_HOST_)) return chronos_http_fail_(p, 400, "no Host");
  if (seen & CHRONOS_HTTP_S_TE_) {
    if (!http11) return chronos_http_fail_(p, 400, "Transfer-Encoding in HTTP/1.0");
    if (seen & CHRONOS_HTTP_S_LENGTH_)
      return chronos_http_fail_(p, 400, "both Transfer-Encoding and Content-Length");
    if (!(seen & CHRONOS_HTTP_S_CHUNKED_LAST_))
      return chronos_http_fail_(p, 400, "Transfer-Encoding does not end in chunked");
    if (seen & CHRONOS_HTTP_S_CODING_)
      return chronos_http_fail_(p, 501, "transfer coding not implemented");
    m->framing = CHRONOS_HTTP_BODY_CHUNKED;
  } else if ((seen & CHRONOS_HTTP_S_LENGTH_) && p->length_ > 0) {
    m->framing = CHRONOS_HTTP_BODY_LENGTH;
  }
  if (chronos_http_persistent_(seen, http11)) m->flags |= CHRONOS_HTTP_KEEP_ALIVE;
  if (http11 && (seen & CHRONOS_HTTP_S_EXPECT_)) m->flags |= CHRONOS_HTTP_EXPECT_CONTINUE;
  /* RFC 9110 §7.8: a server MUST ignore Upgrade in an HTTP/1.0 request. */
  if (http11 && (seen & CHRONOS_HTTP_S_CONN_UPGRADE_) && (seen & CHRONOS_HTTP_S_UPGRADE_))
    m->flags |= CHRONOS_HTTP_UPGRADE;
  return 1;
}

static inline int chronos_http_response_framing_(chronos_http_parser* p, chronos_http_message* m,
                                                 const char* method, size_t method_len) {
  const uint32_t seen = p->seen_;
  const int http11 = m->version_minor >= 1, status = m->status;
  const int head = method_len == 4 && memcmp(method, "HEAD", 4) == 0;
  const int connect = method_len == 7 && memcmp(method, "CONNECT", 7) == 0;
  if (seen & CHRONOS_HTTP_S_TE_) {
    if (!http11) return chronos_http_fail_(p, 502, "Transfer-Encoding in HTTP/1.0");
    if (seen & CHRONOS_HTTP_S_LENGTH_)
      return chronos_http_fail_(p, 502, "both Transfer-Encoding and Content-Length");
  }
  if (status == 101 || (connect && status / 100 == 2)) {
    m->flags |= CHRONOS_HTTP_UPGRADE; /* the connection is no longer HTTP: no body */
  } else if (status / 100 == 1 || status == 204 || status == 304 || head) {
    /* no body, whatever the fields say (RFC 9112 §6.3 items 1 and 2) */
  } else if (seen & CHRONOS_HTTP_S_TE_) {
    m->framing = (seen & CHRONOS_HTTP_S_CHUNKED_LAST_) ? CHRONOS_HTTP_BODY_CHUNKED
                                                       : CHRONOS_HTTP_BODY_UNTIL_CLOSE;
    if (seen & CHRONOS_HTTP_S_CODING_) m->flags |= CHRONOS_HTTP_CODED;
  } else if (seen & CHRONOS_HTTP_S_LENGTH_) {
    if (p->length_ > 0) m->framing = CHRONOS_HTTP_BODY_LENGTH;
  } else {
    m->framing = CHRONOS_HTTP_BODY_UNTIL_CLOSE;
  }
  if (chronos_http_persistent_(seen, http11) && m->framing != CHRONOS_HTTP_BODY_UNTIL_CLOSE &&
      !(m->flags & CHRONOS_HTTP_UPGRADE))
    m->flags |= CHRONOS_HTTP_KEEP_ALIVE;
  return 1;
}

#endif /* CHRONOS_HTTP_IMPL_FRAMING_H */
