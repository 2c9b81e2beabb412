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
 * The parts, in the order each needs the ones before it:
 *
 *   http_impl_state.h       phases, seen_ bits, failing, init and limits
 *   http_impl_chars.h       character classes, scans for the end of a token, text or target
 *   http_impl_first_line.h  line ends, HTTP-version, request line, status line
 *   http_impl_fields.h      field lines and the fields that frame a message
 *   http_impl_framing.h     RFC 9112 §6: the body and keep-alive a complete head implies
 *   http_impl_head.h        parse_request, parse_response: a head, incrementally
 *   http_impl_body.h        parse_body (Content-Length, chunked, trailers), parser_finish
 *   http_impl_helpers.h     find_field, next_field, chunk_header, reason
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

/* In the order above, not sorted: each part uses the ones before it. */
/* clang-format off */
#include "chronos/http_impl_state.h"
#include "chronos/http_impl_chars.h"
#include "chronos/http_impl_first_line.h"
#include "chronos/http_impl_fields.h"
#include "chronos/http_impl_framing.h"
#include "chronos/http_impl_head.h"
#include "chronos/http_impl_body.h"
#include "chronos/http_impl_helpers.h"
/* clang-format on */

#ifdef __cplusplus
}
#endif

#endif /* CHRONOS_HTTP_IMPL_H */
