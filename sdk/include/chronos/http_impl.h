/* The implementation of chronos/http.h: include that header, not this one.
 *
 * How it stays split-proof: every check reads the bytes once, in order, and decides at the
 * first byte that breaks a rule, using only the bytes before it. So a prefix of a stream is
 * either rejected exactly as the whole stream would be, or accepted so far; only the checks
 * that need the whole head (Host present, the framing fields together) wait for the blank line.
 * The parser remembers the offset of the first line it has not checked yet and what the checked
 * fields said (the seen_ bits), never a pointer: the caller's buffer may move between calls.
 *
 * Internal names end in an underscore. Valid C11 and C++20 (the SDK's C++ layer includes it).
 */
#ifndef CHRONOS_HTTP_IMPL_H
#define CHRONOS_HTTP_IMPL_H

#ifndef CHRONOS_HTTP_H
#error "include chronos/http.h, not chronos/http_impl.h"
#endif

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#ifdef __cplusplus
extern "C" {
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

/* Character classes: bit 1 tchar (RFC 9110: methods, field names, coding names), bit 2 a
 * reg-name character that is not '%' (RFC 3986: unreserved / sub-delims; Host values). */
#define CHRONOS_HTTP_C_TCHAR_ 1u
#define CHRONOS_HTTP_C_REGNAME_ 2u
static const unsigned char chronos_http_class_[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    0, 3, 0, 1, 3, 1, 3, 3, 2, 2, 3, 3, 2, 3, 3, 0, /* 0x20  !"#$%&'()*+,-./ */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 2, 0, 2, 0, 0, /* 0x30 0-9:;<=>? */
    0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 0x40 @A-O */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 1, 3, /* 0x50 P-Z[\]^_ */
    1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 0x60 `a-o */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 1, 0, 3, 0, /* 0x70 p-z{|}~DEL */
                                                    /* 0x80-0xff: none */
};

static inline int chronos_http_is_tchar_(char c) {
  return chronos_http_class_[(unsigned char)c] & CHRONOS_HTTP_C_TCHAR_;
}

static inline int chronos_http_lower_(char c) {
  return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : (unsigned char)c;
}

/* Whether s[0, n) equals the lower-case literal `lower`, ignoring ASCII case. */
static inline int chronos_http_ieq_(const char* s, size_t n, const char* lower) {
  size_t i;
  for (i = 0; i < n; ++i)
    if (lower[i] == '\0' || chronos_http_lower_(s[i]) != lower[i]) return 0;
  return lower[n] == '\0';
}

static inline int chronos_http_hex_(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static inline const char* chronos_http_skip_ows_(const char* q, const char* e) {
  while (q < e && (*q == ' ' || *q == '\t')) ++q;
  return q;
}

/* The first byte in [s, e) that is a control character (below 0x20, or DEL), or e. Field
 * values end at one (CR), and must hold no other but HTAB. */
static inline const char* chronos_http_find_ctl_(const char* s, const char* e) {
#if defined(__SSE2__)
  const __m128i c1f = _mm_set1_epi8(0x1f), c7f = _mm_set1_epi8(0x7f);
  while (e - s >= 16) {
    const __m128i x = _mm_loadu_si128((const __m128i*)(const void*)s);
    const __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(x, c1f), x); /* x <= 0x1f, unsigned */
    const int mask = _mm_movemask_epi8(_mm_or_si128(low, _mm_cmpeq_epi8(x, c7f)));
    if (mask != 0) return s + __builtin_ctz((unsigned)mask);
    s += 16;
  }
#endif
  while (s < e && (unsigned char)*s >= 0x20 && *s != 0x7f) ++s;
  return s;
}

/* The end of field-value or reason-phrase text from s: the first control character but HTAB
 * (the CR of the line end, or an invalid byte), or e. */
static inline const char* chronos_http_find_text_end_(const char* s, const char* e) {
  for (;;) {
    s = chronos_http_find_ctl_(s, e);
    if (s == e || *s != '\t') return s;
    ++s;
  }
}

/* The first byte in [s, e) that cannot be in a request target (not 0x21..0x7e), or e. */
static inline const char* chronos_http_find_target_end_(const char* s, const char* e) {
#if defined(__SSE2__)
  const __m128i c20 = _mm_set1_epi8(0x20), c7f = _mm_set1_epi8(0x7f);
  while (e - s >= 16) {
    const __m128i x = _mm_loadu_si128((const __m128i*)(const void*)s);
    const __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(x, c20), x);  /* x <= 0x20 */
    const __m128i high = _mm_cmpeq_epi8(_mm_max_epu8(x, c7f), x); /* x >= 0x7f */
    const int mask = _mm_movemask_epi8(_mm_or_si128(low, high));
    if (mask != 0) return s + __builtin_ctz((unsigned)mask);
    s += 16;
  }
#endif
  while (s < e && (unsigned char)*s > 0x20 && (unsigned char)*s < 0x7f) ++s;
  return s;
}

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

/* --- line ends -------------------------------------------------------------------------------
 * Each checker below returns 1 when its line is complete and valid (*next just after it), 0
 * when the bytes ran out first, or CHRONOS_HTTP_ERROR after chronos_http_fail_. */

/* At q (< e): CRLF, or a bare LF where allowed. */
static inline int chronos_http_line_end_(chronos_http_parser* p, const char* q, const char* e,
                                         const char** next, const char* otherwise) {
  if (*q == '\r') {
    if (q + 1 == e) return 0;
    if (q[1] != '\n') return chronos_http_fail_(p, 400, "bare CR");
    *next = q + 2;
    return 1;
  }
  if (*q == '\n') {
    if (!(p->options_ & CHRONOS_HTTP_LENIENT_LF))
      return chronos_http_fail_(p, 400, "line ends in a bare LF");
    *next = q + 1;
    return 1;
  }
  return chronos_http_fail_(p, 400, otherwise);
}

/* "HTTP/d.d" at q, checked as far as the bytes go. Returns 1 (and the digits), 0 or error. */
static inline int chronos_http_version_(chronos_http_parser* p, const char* q, const char* e,
                                        int* major, int* minor) {
  static const char pattern[] = "HTTP/0.0";
  int i;
  for (i = 0; i < 8; ++i) {
    if (q + i == e) return 0;
    const char c = q[i];
    const int ok = pattern[i] == '0' ? c >= '0' && c <= '9' : c == pattern[i];
    if (!ok) return chronos_http_fail_(p, 400, "invalid HTTP version");
  }
  *major = q[5] - '0';
  *minor = q[7] - '0';
  return 1;
}

/* --- the request line ----------------------------------------------------------------------- */

/* Host's value, or CONNECT's target: uri-host [ ":" port ] (RFC 9112 §3.2, RFC 3986 §3.2.2).
 * Returns 0 if invalid, else 1 without a port and 2 with one. */
static inline int chronos_http_authority_(const char* s, size_t n) {
  size_t i = 0;
  if (n > 0 && s[0] == '[') { /* IP-literal: IPv6 or IPvFuture, loosely: no spaces, no ']' */
    for (i = 1; i < n && s[i] != ']'; ++i)
      if (!(chronos_http_class_[(unsigned char)s[i]] & CHRONOS_HTTP_C_REGNAME_) && s[i] != ':')
        return 0;
    if (i == n || i == 1) return 0;
    ++i;
  } else { /* reg-name or IPv4: unreserved, pct-encoded, sub-delims */
    for (; i < n && s[i] != ':'; ++i) {
      if (s[i] == '%') {
        if (i + 2 >= n || chronos_http_hex_(s[i + 1]) < 0 || chronos_http_hex_(s[i + 2]) < 0)
          return 0;
        i += 2;
      } else if (!(chronos_http_class_[(unsigned char)s[i]] & CHRONOS_HTTP_C_REGNAME_)) {
        return 0;
      }
    }
  }
  if (i == n) return 1;
  if (s[i] != ':') return 0;
  for (++i; i < n; ++i)
    if (s[i] < '0' || s[i] > '9') return 0;
  return 2;
}

/* RFC 9112 §3.2: origin-form for any method, absolute-form for any but CONNECT, authority-form
 * for CONNECT only, asterisk-form for OPTIONS only. */
static inline int chronos_http_target_ok_(const char* method, size_t method_len, const char* t,
                                          size_t n) {
  const int connect = method_len == 7 && memcmp(method, "CONNECT", 7) == 0;
  size_t i;
  if (connect) return chronos_http_authority_(t, n) == 2;
  if (t[0] == '/') return 1;
  if (n == 1 && t[0] == '*') return method_len == 7 && memcmp(method, "OPTIONS", 7) == 0;
  /* absolute-form: scheme ":" ... with scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
  if (!((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z'))) return 0;
  for (i = 1; i < n && t[i] != ':'; ++i) {
    const char c = t[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
          c == '-' || c == '.'))
      return 0;
  }
  return i < n;
}

/* method SP request-target SP HTTP-version CRLF, from s. Fills m's request-line members when m
 * is not NULL. */
static inline int chronos_http_request_line_(chronos_http_parser* p, const char* s, const char* e,
                                             chronos_http_message* m, const char** next) {
  const char* q = s;
  const char *target, *target_end;
  int major = 0, minor = 0, r;
  while (q < e && chronos_http_is_tchar_(*q)) ++q;
  if (q == e) return 0;
  if (*q != ' ' || q == s) return chronos_http_fail_(p, 400, "invalid method");
  target = ++q;
  q = target_end = chronos_http_find_target_end_(q, e);
  if (q == e) return 0;
  if (*q != ' ' || q == target) {
    if (*q == '\r' || *q == '\n') return chronos_http_fail_(p, 400, "no HTTP version");
    return chronos_http_fail_(p, 400, "invalid character in the request target");
  }
  ++q;
  if ((r = chronos_http_version_(p, q, e, &major, &minor)) != 1) return r;
  q += 8;
  if (q == e) return 0;
  if ((r = chronos_http_line_end_(p, q, e, next, "invalid HTTP version")) != 1) return r;
  if (major != 1) return chronos_http_fail_(p, 505, "HTTP version not supported");
  if (!chronos_http_target_ok_(s, (size_t)(target - 1 - s), target, (size_t)(target_end - target)))
    return chronos_http_fail_(p, 400, "invalid request target");
  if (m != NULL) {
    m->method = s;
    m->method_len = (size_t)(target - 1 - s);
    m->target = target;
    m->target_len = (size_t)(target_end - target);
    m->version_minor = minor;
  }
  return 1;
}

/* HTTP-version SP status-code [ SP reason-phrase ] CRLF (a missing reason is tolerated). */
static inline int chronos_http_status_line_(chronos_http_parser* p, const char* s, const char* e,
                                            chronos_http_message* m, const char** next) {
  const char *q = s + 8, *reason;
  int major = 0, minor = 0, r, i, status = 0;
  if ((r = chronos_http_version_(p, s, e, &major, &minor)) != 1) return r;
  for (i = 0; i < 4; ++i) { /* SP and three digits, the first 1..5 */
    if (q + i == e) return 0;
    const char c = q[i];
    const int ok = i == 0 ? c == ' ' : (c >= (i == 1 ? '1' : '0') && c <= (i == 1 ? '5' : '9'));
    if (!ok) return chronos_http_fail_(p, 502, "invalid status code");
    if (i > 0) status = status * 10 + (c - '0');
  }
  q += 4;
  if (q == e) return 0;
  if (*q != ' ' && *q != '\r' && *q != '\n')
    return chronos_http_fail_(p, 502, "invalid status code");
  reason = q;
  if (*q == ' ') {
    reason = ++q;
    q = chronos_http_find_text_end_(q, e);
    if (q == e) return 0;
  }
  if ((r = chronos_http_line_end_(p, q, e, next, "invalid character in the reason phrase")) != 1)
    return r;
  if (major != 1) return chronos_http_fail_(p, 502, "HTTP version not supported");
  if (m != NULL) {
    m->status = status;
    m->reason = reason;
    m->reason_len = (size_t)(q - reason);
    m->version_minor = minor;
  }
  return 1;
}

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
  if (q < e && *q == '"') {
    for (++q; q < e; ++q) {
      const unsigned char c = (unsigned char)*q;
      if (c == '"') return q + 1;
      if (c == '\\') {
        if (++q == e) return NULL;
        const unsigned char d = (unsigned char)*q;
        if (d != '\t' && (d < 0x20 || d == 0x7f)) return NULL;
      } else if (c != '\t' && (c < 0x20 || c == 0x7f)) {
        return NULL;
      }
    }
    return NULL;
  }
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

/* --- the end of a head: framing (RFC 9112 §6) ----------------------------------------------- */

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
  if (http11 ? !(seen & CHRONOS_HTTP_S_CLOSE_)
             : (seen & CHRONOS_HTTP_S_KEEP_ALIVE_) && !(seen & CHRONOS_HTTP_S_CLOSE_))
    m->flags |= CHRONOS_HTTP_KEEP_ALIVE;
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
  if ((http11 ? !(seen & CHRONOS_HTTP_S_CLOSE_)
              : (seen & CHRONOS_HTTP_S_KEEP_ALIVE_) && !(seen & CHRONOS_HTTP_S_CLOSE_)) &&
      m->framing != CHRONOS_HTTP_BODY_UNTIL_CLOSE && !(m->flags & CHRONOS_HTTP_UPGRADE))
    m->flags |= CHRONOS_HTTP_KEEP_ALIVE;
  return 1;
}

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

/* --- heads ---------------------------------------------------------------------------------- */

static inline int chronos_http_parse_head_(chronos_http_parser* p, const char* data, size_t len,
                                           chronos_http_message* m, const char* method,
                                           size_t method_len) {
  const size_t view = len < p->max_head_ ? len : p->max_head_;
  const char* const e = data + view;
  const size_t recorded_from = p->fields_;
  const int lenient = (p->options_ & CHRONOS_HTTP_LENIENT_LF) != 0;
  const int response = (p->options_ & CHRONOS_HTTP_O_RESPONSE_) != 0;
  size_t pos = p->line_;
  const char* next = NULL;
  int r, first_line_here = 0;

  if (p->phase_ == CHRONOS_HTTP_P_START_) {
    /* RFC 9112 §2.2: a server ignores empty lines before a request line. */
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
    if (pos == view || (!response && data[pos] == '\r' && pos + 1 == view)) goto incomplete;
    p->start_ = (uint32_t)pos;
    p->phase_ = CHRONOS_HTTP_P_FIRST_;
  }
  if (p->phase_ == CHRONOS_HTTP_P_FIRST_) {
    first_line_here = 1; /* m gets its values now; else head_done_ reads the line again */
    r = response ? chronos_http_status_line_(p, data + pos, e, m, &next)
                 : chronos_http_request_line_(p, data + pos, e, m, &next);
    if (r != 1) {
      if (r == 0) goto incomplete;
      return r;
    }
    if (response && m->status / 100 == 2 && method_len == 7 && memcmp(method, "CONNECT", 7) == 0)
      p->seen_ |= CHRONOS_HTTP_S_TUNNEL_;
    pos = (size_t)(next - data);
    p->line_ = (uint32_t)pos;
    p->phase_ = CHRONOS_HTTP_P_FIELDS_;
  }
  for (;;) {
    chronos_http_field f;
    if (pos == view) goto incomplete;
    if (data[pos] == '\r' || data[pos] == '\n') { /* the blank line? */
      r = chronos_http_line_end_(p, data + pos, e, &next, "");
      if (r != 1) {
        if (r == 0) goto incomplete;
        return r;
      }
      return chronos_http_head_done_(p, data, (size_t)(next - data), m, method, method_len,
                                     first_line_here ? SIZE_MAX : recorded_from);
    }
    if (data[pos] == ' ' || data[pos] == '\t')
      return chronos_http_fail_(p, 400, "obsolete line folding");
    r = chronos_http_field_line_(p, data + pos, e, &f, &next);
    if (r != 1) {
      if (r == 0) goto incomplete;
      return r;
    }
    if (p->fields_ >= p->max_fields_ || (m->fields != NULL && p->fields_ >= m->fields_capacity))
      return chronos_http_fail_(p, 431, "too many fields");
    if (chronos_http_field_meaning_(p, &f, data) != 1) return CHRONOS_HTTP_ERROR;
    if (m->fields != NULL) m->fields[p->fields_] = f;
    ++p->fields_;
    pos = (size_t)(next - data);
    p->line_ = (uint32_t)pos;
  }

incomplete:
  if (len > p->max_head_) {
    /* RFC 9112 §3: a request-target longer than the server parses is 414 */
    if (p->phase_ == CHRONOS_HTTP_P_FIRST_ && !response)
      return chronos_http_fail_(p, 414, "request line too long");
    return chronos_http_fail_(p, 431, "head too large");
  }
  return CHRONOS_HTTP_AGAIN;
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

#ifdef __cplusplus
}
#endif

#endif /* CHRONOS_HTTP_IMPL_H */
