/* HTTP/1.1 messages for plugins: a strict, incremental, zero-copy parser (RFC 9110, RFC 9112).
 *
 * One parser reads one connection's requests (a server) or responses (a client or a proxy),
 * one message after another: first the head, then the body. It never allocates and never
 * copies: what it returns are views into the bytes it was given. It needs the on_data model
 * of plugin.h: bytes it did not consume are offered again, with newer bytes after them.
 *
 *   chronos_http_parser parser;                      // per connection; plain data, 56 bytes
 *   chronos_http_parser_init(&parser, 0);
 *
 *   // in on_data, at the first unconsumed byte:
 *   chronos_http_message req;
 *   chronos_http_message_init(&req, NULL, 0);        // or an array to receive the fields
 *   switch (chronos_http_parse_request(&parser, data, len, &req)) {
 *     case CHRONOS_HTTP_AGAIN: return 0;             // no complete head yet: wait for more
 *     case CHRONOS_HTTP_ERROR: answer parser.error_status (400, 414, 431, 501, 505), then close
 *     case CHRONOS_HTTP_DONE:  route on req.method / req.target; the head is req.head_length
 *                              bytes; then read the body with chronos_http_parse_body
 *   }
 *
 * Incremental. Call again with the same first byte and whatever arrived since, for as long as
 * the answer is CHRONOS_HTTP_AGAIN: checked lines are not checked again, so a head that
 * trickles in byte by byte costs linear time. Any split of the bytes gives the same result.
 *
 * Strict by default. Everything RFC 9112 lets a recipient reject that has been used to make two
 * HTTP implementations frame one byte stream differently (request smuggling) is rejected:
 *   - lines end in CRLF; a bare LF only with CHRONOS_HTTP_LENIENT_LF; a bare CR never;
 *   - request line: method SP request-target SP HTTP-version, one SP each; the method a token;
 *     the target printable ASCII in origin, absolute, authority (CONNECT only) or asterisk
 *     (OPTIONS only) form; HTTP/1.x (1.2 and later are read as 1.1), other majors 505;
 *   - field names are tokens with nothing between the name and the colon; values hold no
 *     control character but HTAB; obs-fold (a line starting with SP or HTAB) is rejected;
 *   - Content-Length: digits only, below 2^63; repeated fields must agree;
 *   - Transfer-Encoding: a list of codings, none empty (RFC 9110 §5.6.1.2 would ignore empty
 *     elements; front ends disagree on them, and refusing is the answer that cannot desync),
 *     `chunked` at most once and last (for a
 *     request, else 400; a response is then read until close), `chunked` without parameters;
 *     never with Content-Length, never in HTTP/1.0; other codings before `chunked` in a
 *     request are 501 (the framing is sound, but nothing here decodes them);
 *   - Host: exactly one in an HTTP/1.1 request, at most one in HTTP/1.0, with a valid value;
 *   - chunk-size lines: hex digits below 2^63, then only `;name[=token|"quoted"]` extensions;
 *     the data ends in CRLF; trailer fields follow the field rules;
 *   - limits: the head (and the trailer section) at most max_head_bytes (default 8192) and
 *     max_fields fields (default 100), else 431 (request) or an error (response); a request
 *     line that does not end within max_head_bytes is 414.
 * Responses: the framing of RFC 9112 §6.3 (HEAD, 1xx, 204, 304: no body; a 2xx to CONNECT is a
 * tunnel whose Content-Length and Transfer-Encoding are ignored; else chunked, length or until
 * close); Upgrade counts only in HTTP/1.1 (RFC 9110 §7.8).
 * After CHRONOS_HTTP_ERROR the parser stays in error: answer (a server) and close the
 * connection, since nothing after the bad bytes can be framed with certainty.
 *
 * Threads: a parser is plain data used by one thread at a time (one connection is served by
 * one thread at a time, plugin.h). Nothing here keeps global state.
 *
 * The implementation is in chronos/http_impl.h, included below: nothing to link.
 */
#ifndef CHRONOS_HTTP_H
#define CHRONOS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a parse call answers. */
enum chronos_http_result {
  CHRONOS_HTTP_ERROR = -1, /* malformed: see error_status and error; the parser stays here */
  CHRONOS_HTTP_AGAIN = 0,  /* need more bytes: call again with them appended */
  CHRONOS_HTTP_DONE = 1,   /* a head is complete, or (parse_body) the message's body ended */
  CHRONOS_HTTP_DATA = 2    /* parse_body: a piece of body data; call again for the rest */
};

/* chronos_http_parser_init options. */
#define CHRONOS_HTTP_LENIENT_LF 0x1u /* accept a bare LF as a line end (not recommended) */

/* How a message's body is delimited (RFC 9112 §6.3). */
enum chronos_http_framing {
  CHRONOS_HTTP_BODY_NONE = 0,       /* no body: the next message starts after the head */
  CHRONOS_HTTP_BODY_LENGTH = 1,     /* content_length bytes (never 0: that is BODY_NONE) */
  CHRONOS_HTTP_BODY_CHUNKED = 2,    /* chunked transfer coding, possibly with trailers */
  CHRONOS_HTTP_BODY_UNTIL_CLOSE = 3 /* a response whose body ends when the connection closes */
};

/* chronos_http_message.flags */
#define CHRONOS_HTTP_KEEP_ALIVE 0x1u /* the connection may carry another message after this one */
#define CHRONOS_HTTP_EXPECT_CONTINUE 0x2u /* request: HTTP/1.1 with Expect: 100-continue */
#define CHRONOS_HTTP_UPGRADE                                                               \
  0x4u                          /* request: Connection: upgrade and an Upgrade field;      \
                                   response: 101, or 2xx to CONNECT: what follows the head \
                                   is no longer HTTP/1.1 */
#define CHRONOS_HTTP_CODED 0x8u /* response: codings other than chunked were applied */

/* One field line: name as sent (compare case-insensitively), value without surrounding OWS. */
typedef struct chronos_http_field {
  const char* name;
  size_t name_len;
  const char* value;
  size_t value_len;
} chronos_http_field;

/* One message head. Views point into the bytes given to the parse call that answered DONE and
 * stay valid as long as those bytes do (in on_data: until the callback returns). */
typedef struct chronos_http_message {
  /* Set by chronos_http_message_init: where to store the fields (NULL: check, do not store).
   * With an array, at most fields_capacity fields are accepted (more: 431). */
  chronos_http_field* fields;
  size_t fields_capacity;

  /* Set on CHRONOS_HTTP_DONE. */
  size_t head_length; /* bytes of the head, from the first byte given to the blank line */
  size_t field_count; /* fields in the head */
  const char* method; /* request: e.g. "GET", case-sensitive */
  size_t method_len;
  const char* target; /* request: e.g. "/index.html?q=1" */
  size_t target_len;
  const char* host; /* request: the Host field's value ("" without one, in HTTP/1.0) */
  size_t host_len;
  int status;         /* response: 100..599 */
  const char* reason; /* response: the reason phrase, possibly empty */
  size_t reason_len;
  int version_minor;       /* the x of HTTP/1.x */
  unsigned flags;          /* CHRONOS_HTTP_KEEP_ALIVE | ... */
  int framing;             /* enum chronos_http_framing */
  uint64_t content_length; /* the Content-Length value if there was one (also for HEAD, 304) */
} chronos_http_message;

/* One step through a body (chronos_http_parse_body). */
typedef struct chronos_http_body {
  size_t consumed;  /* input bytes this call used (framing included): skip them (after
                       CHRONOS_HTTP_ERROR it means nothing: close the connection) */
  const char* data; /* CHRONOS_HTTP_DATA: body bytes, a view into the input */
  size_t len;
  const char* trailers; /* CHRONOS_HTTP_DONE after a chunked body: its trailer field lines, */
  size_t trailers_len;  /* checked, each ending in CRLF; iterate with chronos_http_next_field */
} chronos_http_body;

/* One connection's parser. Members ending in an underscore are private. */
typedef struct chronos_http_parser {
  int error_status;  /* after CHRONOS_HTTP_ERROR: what to answer (400, 414, 431, 501, 505; 502 for
                        a response, which is what a proxy answers its client) */
  const char* error; /* after CHRONOS_HTTP_ERROR: why, a static English text for logs */
  uint64_t length_;  /* the Content-Length seen; then body bytes left in this piece */
  uint32_t max_head_, line_, start_, host_at_, host_len_, seen_;
  uint16_t max_fields_, fields_;
  uint8_t phase_, options_;
} chronos_http_parser;

/* Ready for the first message, with default limits. `options`: CHRONOS_HTTP_LENIENT_LF or 0. */
static inline void chronos_http_parser_init(chronos_http_parser* parser, unsigned options);

/* Changes the limits (0 keeps one as it is): a head (and a trailer section) of at most
 * `max_head_bytes` (at most 1 GiB), at most `max_fields` field lines. */
static inline void chronos_http_parser_set_limits(chronos_http_parser* parser,
                                                  size_t max_head_bytes, unsigned max_fields);

/* Clears `message` and sets where its fields go (`fields` may be NULL, then `capacity` is 0). */
static inline void chronos_http_message_init(chronos_http_message* message,
                                             chronos_http_field* fields, size_t capacity);

/* Reads a request head from `data` (`len` bytes from the request's first byte; empty lines
 * before a request line are skipped and counted in head_length). A server answers a request
 * whose message has CHRONOS_HTTP_EXPECT_CONTINUE either with 100 Continue before reading the
 * body, or with a final status and then closes or reads the body. */
static inline int chronos_http_parse_request(chronos_http_parser* parser, const char* data,
                                             size_t len, chronos_http_message* message);

/* Reads a response head. `method` (`method_len` bytes) is the request's method, which decides
 * the framing of some responses (HEAD: no body; CONNECT 2xx: a tunnel). A 1xx other than 101
 * is complete at its head: the final response to the same request follows. */
static inline int chronos_http_parse_response(chronos_http_parser* parser, const char* data,
                                              size_t len, const char* method, size_t method_len,
                                              chronos_http_message* message);

/* After a head: reads the body that follows it, from its first unconsumed byte. Answers
 * CHRONOS_HTTP_DATA with one piece of body (call again after body->consumed bytes), DONE at the
 * body's end (the parser is then ready for the next head; also at once when there is no body),
 * AGAIN when it needs more bytes (skip body->consumed first: framing read so far), or ERROR.
 * A chunk-size line and the trailer section are consumed only once whole (each bounded), so
 * they are read in one piece whatever the split. An UNTIL_CLOSE body is all DATA: it ends with
 * the connection (see chronos_http_parser_finish). */
static inline int chronos_http_parse_body(chronos_http_parser* parser, const char* data, size_t len,
                                          chronos_http_body* body);

/* Non-zero between a head's DONE and its body's DONE: the next call must be parse_body. */
static inline int chronos_http_parser_in_body(const chronos_http_parser* parser);

/* The peer closed the connection: DONE if that ends the message cleanly (between messages, or
 * an UNTIL_CLOSE body), ERROR if a message was cut short (error_status and error say so). */
static inline int chronos_http_parser_finish(chronos_http_parser* parser);

/* The value of the first field named `name` (case-insensitive), or NULL; stores its length in
 * *value_len. Needs a message parsed with a fields array. */
static inline const char* chronos_http_find_field(const chronos_http_message* message,
                                                  const char* name, size_t* value_len);

/* Takes the next field line off [*cursor, end), a block of checked field lines such as
 * chronos_http_body.trailers: returns 1 and fills `field`, or 0 at the end. */
static inline int chronos_http_next_field(const char** cursor, const char* end,
                                          chronos_http_field* field);

/* Writes the line that starts a chunk of `size` bytes ("1a2b\r\n") into `out`, which holds at
 * least CHRONOS_HTTP_CHUNK_HEADER_MAX bytes; returns its length. size 0 is the last chunk,
 * which the sender follows with "\r\n" (or trailer fields, then "\r\n"). */
#define CHRONOS_HTTP_CHUNK_HEADER_MAX 18
static inline size_t chronos_http_chunk_header(char* out, uint64_t size);

/* The standard reason phrase of `status` ("Not Found"), or "" for one without. */
static inline const char* chronos_http_reason(int status);

#ifdef __cplusplus
}
#endif

#include "chronos/http_impl.h"

#endif /* CHRONOS_HTTP_H */
