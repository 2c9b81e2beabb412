/* Part of chronos/http_impl.h, the implementation of chronos/http.h:
 * character classes and the scans over bytes; nothing here knows the parser.
 */
#ifndef CHRONOS_HTTP_IMPL_CHARS_H
#define CHRONOS_HTTP_IMPL_CHARS_H

#ifndef CHRONOS_HTTP_IMPL_H
#error "include chronos/http.h, not chronos/http_impl_chars.h"
#endif

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

/* A quoted-string from its opening quote at q (RFC 9110 §5.6.4: any byte but a control other
 * than HTAB, and quoted-pairs): 1 with *end just after the closing quote, 0 when the bytes end
 * first, -1 at a byte that cannot be in one. */
static inline int chronos_http_quoted_(const char* q, const char* e, const char** end) {
  for (++q; q < e; ++q) {
    unsigned char c = (unsigned char)*q;
    if (c == '"') {
      *end = q + 1;
      return 1;
    }
    if (c == '\\') { /* a quoted-pair: the byte after it is checked like any other */
      if (++q == e) return 0;
      c = (unsigned char)*q;
    }
    if (c != '\t' && (c < 0x20 || c == 0x7f)) return -1;
  }
  return 0;
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

#endif /* CHRONOS_HTTP_IMPL_CHARS_H */
