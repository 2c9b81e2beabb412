/* Part of chronos/http_impl.h, the implementation of chronos/http.h:
 * the parser's private state (phases, the seen_ bits) and the calls that set it up.
 */
#ifndef CHRONOS_HTTP_IMPL_STATE_H
#define CHRONOS_HTTP_IMPL_STATE_H

#ifndef CHRONOS_HTTP_IMPL_H
#error "include chronos/http.h, not chronos/http_impl_state.h"
#endif

/* Parser phases (phase_). Heads first, then bodies: phase_ >= BODY means a body is pending. */
enum {
  CHRONOS_HTTP_P_START_ = 0,   /* before a message: empty lines may come (requests) */
  CHRONOS_HTTP_P_FIRST_,       /* the request or status line */
  CHRONOS_HTTP_P_FIELDS_,      /* field lines, up to the blank line */
  CHRONOS_HTTP_P_LENGTH_,      /* Content-Length body: length_ bytes left */
  CHRONOS_HTTP_P_CHUNK_SIZE_,  /* a chunk-size line */
  CHRONOS_HTTP_P_CHUNK_DATA_,  /* chunk data: length_ bytes left */
  CHRONOS_HTTP_P_CHUNK_END_,   /* the CRLF after chunk data */
  CHRONOS_HTTP_P_TRAILERS_,    /* the trailer section after the last chunk */
  CHRONOS_HTTP_P_UNTIL_CLOSE_, /* a response body that ends with the connection */
  CHRONOS_HTTP_P_BODY_END_,    /* the last Content-Length byte was returned: DONE comes next */
  CHRONOS_HTTP_P_ERROR_
};
#define CHRONOS_HTTP_P_BODY_ CHRONOS_HTTP_P_LENGTH_

/* options_ bits beside the public CHRONOS_HTTP_LENIENT_LF. */
#define CHRONOS_HTTP_O_RESPONSE_ 0x80u /* the message being read is a response */

/* seen_ bits: what the fields checked so far said. */
#define CHRONOS_HTTP_S_HOST_ 0x1u
#define CHRONOS_HTTP_S_LENGTH_ 0x2u
#define CHRONOS_HTTP_S_TE_ 0x4u
#define CHRONOS_HTTP_S_CHUNKED_ 0x8u       /* chunked appeared in Transfer-Encoding */
#define CHRONOS_HTTP_S_CHUNKED_LAST_ 0x10u /* ... and nothing came after it (so far) */
#define CHRONOS_HTTP_S_CODING_ 0x20u       /* a coding other than chunked appeared */
#define CHRONOS_HTTP_S_CLOSE_ 0x40u
#define CHRONOS_HTTP_S_KEEP_ALIVE_ 0x80u
#define CHRONOS_HTTP_S_CONN_UPGRADE_ 0x100u
#define CHRONOS_HTTP_S_UPGRADE_ 0x200u
#define CHRONOS_HTTP_S_EXPECT_ 0x400u
#define CHRONOS_HTTP_S_TUNNEL_ 0x800u /* a 2xx to CONNECT: its framing fields are ignored */

#define CHRONOS_HTTP_CHUNK_LINE_MAX_ 4096u /* a chunk-size line with its extensions */

static inline int chronos_http_fail_(chronos_http_parser* p, int status, const char* why) {
  if (p->options_ & CHRONOS_HTTP_O_RESPONSE_) status = 502;
  p->error_status = status;
  p->error = why;
  p->phase_ = CHRONOS_HTTP_P_ERROR_;
  return CHRONOS_HTTP_ERROR;
}

/* Forgets the message just read; keeps options, limits and length_ (the body's size). */
static inline void chronos_http_next_message_(chronos_http_parser* p, int phase) {
  p->line_ = p->start_ = p->host_at_ = p->host_len_ = p->seen_ = 0;
  p->fields_ = 0;
  p->phase_ = (uint8_t)phase;
}

static inline void chronos_http_parser_init(chronos_http_parser* p, unsigned options) {
  memset(p, 0, sizeof *p);
  p->max_head_ = 8192;
  p->max_fields_ = 100;
  p->options_ = (uint8_t)(options & CHRONOS_HTTP_LENIENT_LF);
}

static inline void chronos_http_parser_set_limits(chronos_http_parser* p, size_t max_head_bytes,
                                                  unsigned max_fields) {
  if (max_head_bytes > 0)
    p->max_head_ = (uint32_t)(max_head_bytes < (1u << 30) ? max_head_bytes : (1u << 30));
  if (max_fields > 0) p->max_fields_ = (uint16_t)(max_fields < 65535u ? max_fields : 65535u);
}

/* Cheap on purpose (it runs once per message): every other member is written by the call that
 * answers DONE; the first line's members of the other kind stay as set here. */
static inline void chronos_http_message_init(chronos_http_message* m, chronos_http_field* fields,
                                             size_t capacity) {
  m->fields = fields;
  m->fields_capacity = fields != NULL ? capacity : 0;
  m->head_length = m->field_count = m->method_len = m->target_len = m->host_len = 0;
  m->reason_len = 0;
  m->method = m->target = m->host = m->reason = "";
  m->status = m->version_minor = m->framing = 0;
  m->flags = 0;
  m->content_length = 0;
}

static inline int chronos_http_parser_in_body(const chronos_http_parser* p) {
  return p->phase_ >= CHRONOS_HTTP_P_BODY_ && p->phase_ != CHRONOS_HTTP_P_ERROR_;
}

#endif /* CHRONOS_HTTP_IMPL_STATE_H */
