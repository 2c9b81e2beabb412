/* Part of chronos/http_impl.h, the implementation of chronos/http.h:
 * line ends, the HTTP version, and the request and status lines.
 */
#ifndef CHRONOS_HTTP_IMPL_FIRST_LINE_H
#define CHRONOS_HTTP_IMPL_FIRST_LINE_H

#ifndef CHRONOS_HTTP_IMPL_H
#error "include chronos/http.h, not chronos/http_impl_first_line.h"
#endif

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

#endif /* CHRONOS_HTTP_IMPL_FIRST_LINE_H */
