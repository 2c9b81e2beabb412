/* Reading a plugin's configuration: the JSON text the host hands to init.
 *
 * The host serialises the plugin's YAML `config:` map as a JSON object. These helpers read one
 * top-level value by key, in plain C, without allocating:
 *
 *   char greeting[64];
 *   long n = chronos_config_string(config, config_len, "greeting", greeting, sizeof greeting);
 *   if (n == CHRONOS_CONFIG_MISSING) strcpy(greeting, "hi");
 *   long long max_line = 1024;
 *   if (chronos_config_int(config, config_len, "max_line", &max_line) == CHRONOS_CONFIG_INVALID)
 *     ... refuse to start ...
 *
 * They read at most `len` bytes and never past them, whatever the text holds; malformed text
 * gives CHRONOS_CONFIG_INVALID. Scanning stops at the first occurrence of the key. As YAML
 * does not say whether `port: 80` is a number or a string, both readers accept both forms
 * where the meaning is clear: a string of digits is an integer, and a number or true/false
 * read as a string gives its text.
 */
#ifndef CHRONOS_PLUGIN_CONFIG_H
#define CHRONOS_PLUGIN_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <string.h>

#define CHRONOS_CONFIG_MISSING (-1) /* no such top-level key */
#define CHRONOS_CONFIG_INVALID (-2) /* a value of the wrong type, or malformed text */

/* Internal helpers: names end in an underscore. */

static inline const char* chronos_cfg_ws_(const char* p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  return p;
}

static inline int chronos_cfg_hex4_(const char* p, const char* end, unsigned* out) {
  unsigned v = 0;
  int i;
  if (end - p < 4) return 0;
  for (i = 0; i < 4; ++i) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return 0;
  }
  *out = v;
  return 1;
}

/* Writes code point cp as UTF-8 into out; returns how many bytes (1..4). */
static inline int chronos_cfg_utf8_(unsigned cp, unsigned char out[4]) {
  if (cp < 0x80) {
    out[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (unsigned char)(0xC0 | (cp >> 6));
    out[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (unsigned char)(0xE0 | (cp >> 12));
    out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (unsigned char)(0xF0 | (cp >> 18));
  out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

/* A \uXXXX escape at p (its backslash), and the \uXXXX of the low surrogate a high one needs:
 * stores the code point in *cp and returns the pointer after the escape(s), or NULL. */
static inline const char* chronos_cfg_unicode_(const char* p, const char* end, unsigned* cp) {
  unsigned low;
  if (!chronos_cfg_hex4_(p + 2, end, cp)) return NULL;
  p += 6;
  if (*cp >= 0xDC00 && *cp <= 0xDFFF) return NULL; /* a low surrogate alone */
  if (*cp >= 0xD800 && *cp <= 0xDBFF) {            /* a high one needs its low partner */
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !chronos_cfg_hex4_(p + 2, end, &low) ||
        low < 0xDC00 || low > 0xDFFF)
      return NULL;
    *cp = 0x10000 + ((*cp - 0xD800) << 10) + (low - 0xDC00);
    p += 6;
  }
  return p;
}

/* The escape at *pp (its backslash, with at least one byte after it), as chronos_cfg_char_. */
static inline int chronos_cfg_escape_(const char** pp, const char* end, unsigned char out[4]) {
  static const char from[8] = {'"', '\\', '/', 'b', 'f', 'n', 'r', 't'};
  static const char to[8] = {'"', '\\', '/', '\b', '\f', '\n', '\r', '\t'};
  const char* p = *pp;
  const char* hit;
  unsigned cp;
  if (p[1] == 'u') {
    if ((p = chronos_cfg_unicode_(p, end, &cp)) == NULL) return -1;
    *pp = p;
    return chronos_cfg_utf8_(cp, out);
  }
  hit = (const char*)memchr(from, p[1], sizeof from);
  if (hit == NULL) return -1;
  out[0] = (unsigned char)to[hit - from];
  *pp = p + 2;
  return 1;
}

/* Decodes the next character of a JSON string whose opening quote is behind *pp: writes its
 * UTF-8 bytes to out and returns how many (1..4), or 0 at the closing quote (consumed), or -1
 * if the string is malformed or unterminated. */
static inline int chronos_cfg_char_(const char** pp, const char* end, unsigned char out[4]) {
  const char* p = *pp;
  if (p >= end) return -1;
  if (*p == '"') {
    *pp = p + 1;
    return 0;
  }
  if ((unsigned char)*p < 0x20) return -1; /* JSON forbids raw control characters */
  if (*p == '\\') return end - p < 2 ? -1 : chronos_cfg_escape_(pp, end, out);
  out[0] = (unsigned char)*p;
  *pp = p + 1;
  return 1;
}

/* Decodes the string whose opening quote is behind p into out (at most out_size - 1 bytes, then
 * a NUL, if out_size > 0). Returns the pointer after the closing quote, or NULL if malformed;
 * *length receives the full decoded length. */
static inline const char* chronos_cfg_string_(const char* p, const char* end, char* out,
                                              size_t out_size, size_t* length) {
  unsigned char u[4];
  size_t n = 0;
  int k, i;
  while ((k = chronos_cfg_char_(&p, end, u)) > 0) {
    for (i = 0; i < k; ++i, ++n)
      if (n + 1 < out_size) out[n] = (char)u[i];
  }
  if (k < 0) return NULL;
  if (out_size > 0) out[n < out_size ? n : out_size - 1] = '\0';
  *length = n;
  return p;
}

/* A bare scalar (number, true, false, null): the span of its characters, or p if none. */
static inline const char* chronos_cfg_scalar_(const char* p, const char* end) {
  while (p < end && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '+' || *p == '.'))
    ++p;
  return p;
}

/* Skips one value (nested objects and arrays included); NULL if malformed. Nesting is counted,
 * not recursed into, so deep nesting cannot exhaust the stack. */
static inline const char* chronos_cfg_skip_(const char* p, const char* end) {
  size_t depth = 0, length;
  do {
    p = chronos_cfg_ws_(p, end);
    if (p >= end) return NULL;
    if (*p == '"') {
      p = chronos_cfg_string_(p + 1, end, NULL, 0, &length);
      if (p == NULL) return NULL;
    } else if (*p == '{' || *p == '[') {
      ++depth;
      ++p;
    } else if (*p == '}' || *p == ']') {
      if (depth == 0) return NULL;
      --depth;
      ++p;
    } else if (depth > 0 && (*p == ',' || *p == ':')) {
      ++p;
    } else {
      const char* q = chronos_cfg_scalar_(p, end);
      if (q == p) return NULL;
      p = q;
    }
  } while (depth > 0);
  return p;
}

/* Finds the value of top-level `key`: sets *value to its first character and returns 0, or
 * returns CHRONOS_CONFIG_MISSING / CHRONOS_CONFIG_INVALID. */
static inline int chronos_cfg_find_(const char* json, size_t len, const char* key,
                                    const char** value) {
  const char* end;
  const char* p;
  size_t key_len;
  if (json == NULL || key == NULL) return CHRONOS_CONFIG_INVALID;
  end = json + len;
  p = chronos_cfg_ws_(json, end);
  key_len = strlen(key);
  if (p >= end || *p != '{') return CHRONOS_CONFIG_INVALID;
  p = chronos_cfg_ws_(p + 1, end);
  if (p < end && *p == '}') return CHRONOS_CONFIG_MISSING;
  for (;;) {
    unsigned char u[4];
    size_t matched = 0; /* bytes of key matched so far; key_len + 1 once it cannot match */
    int k, i;
    if (p >= end || *p != '"') return CHRONOS_CONFIG_INVALID;
    ++p;
    while ((k = chronos_cfg_char_(&p, end, u)) > 0) {
      for (i = 0; i < k; ++i)
        matched = (matched < key_len && key[matched] == (char)u[i]) ? matched + 1 : key_len + 1;
    }
    if (k < 0) return CHRONOS_CONFIG_INVALID;
    p = chronos_cfg_ws_(p, end);
    if (p >= end || *p != ':') return CHRONOS_CONFIG_INVALID;
    p = chronos_cfg_ws_(p + 1, end);
    if (matched == key_len) {
      if (p >= end) return CHRONOS_CONFIG_INVALID;
      *value = p;
      return 0;
    }
    p = chronos_cfg_skip_(p, end);
    if (p == NULL) return CHRONOS_CONFIG_INVALID;
    p = chronos_cfg_ws_(p, end);
    if (p < end && *p == '}') return CHRONOS_CONFIG_MISSING;
    if (p >= end || *p != ',') return CHRONOS_CONFIG_INVALID;
    p = chronos_cfg_ws_(p + 1, end);
  }
}

/* Reads top-level string `key` from `json` (`len` bytes): copies at most out_size - 1 bytes of
 * its decoded value into out, then a NUL (if out_size > 0; out may be NULL when it is 0).
 * Returns the value's full length, as snprintf does (compare with out_size to detect a cut, or
 * call with out_size 0 to learn the size), or CHRONOS_CONFIG_MISSING / CHRONOS_CONFIG_INVALID.
 * A \u0000 escape puts a NUL inside the value: trust the length, not strlen. */
static inline long chronos_config_string(const char* json, size_t len, const char* key, char* out,
                                         size_t out_size) {
  const char* p;
  size_t length = 0;
  int found = chronos_cfg_find_(json, len, key, &p);
  if (found != 0) return found;
  if (*p == '"') {
    if (chronos_cfg_string_(p + 1, json + len, out, out_size, &length) == NULL)
      return CHRONOS_CONFIG_INVALID;
  } else {
    const char* q = chronos_cfg_scalar_(p, json + len);
    if (q == p || (q - p == 4 && memcmp(p, "null", 4) == 0)) return CHRONOS_CONFIG_INVALID;
    length = (size_t)(q - p);
    if (out_size > 0) {
      size_t n = length < out_size ? length : out_size - 1;
      memcpy(out, p, n);
      out[n] = '\0';
    }
  }
  return length > (size_t)LONG_MAX ? CHRONOS_CONFIG_INVALID : (long)length;
}

/* Reads top-level integer `key` into *out (untouched unless found and valid). Accepts a JSON
 * integer or a string holding one ("80"); a fraction, an exponent or a value that does not fit
 * a long long is CHRONOS_CONFIG_INVALID. Returns 0, or CHRONOS_CONFIG_MISSING / _INVALID. */
static inline int chronos_config_int(const char* json, size_t len, const char* key,
                                     long long* out) {
  char text[32];
  const char* p;
  const char* q;
  size_t n;
  int negative, found = chronos_cfg_find_(json, len, key, &p);
  unsigned long long v = 0, limit;
  if (found != 0) return found;
  if (*p == '"') {
    long k = chronos_config_string(json, len, key, text, sizeof text);
    if (k < 0 || (size_t)k >= sizeof text) return CHRONOS_CONFIG_INVALID;
    p = text;
    n = (size_t)k;
  } else {
    n = (size_t)(chronos_cfg_scalar_(p, json + len) - p);
  }
  q = p + n;
  negative = p < q && *p == '-';
  if (negative) ++p;
  if (p == q) return CHRONOS_CONFIG_INVALID;
  limit = negative ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
  for (; p < q; ++p) {
    if (*p < '0' || *p > '9') return CHRONOS_CONFIG_INVALID;
    if (v > (limit - (unsigned long long)(*p - '0')) / 10) return CHRONOS_CONFIG_INVALID;
    v = v * 10 + (unsigned long long)(*p - '0');
  }
  *out = negative ? (v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v)
                  : (long long)v;
  return 0;
}

#endif /* CHRONOS_PLUGIN_CONFIG_H */
