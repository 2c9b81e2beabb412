// An HTTP/1.1 request-head parser for the http plugin: no allocation, no copies, bounded work.
//
//   chronos::http::RequestParser parser;
//   chronos::http::Request request;
//   switch (parser.parse(unconsumed_bytes, request)) { ... }
//
// The parser reads the head (request line and header fields) of the request that starts at the
// first byte it is given. Call it again with the same bytes plus whatever arrived since as long
// as it answers need_more: it remembers how far it has searched, so a head that trickles in
// byte by byte costs linear time, not quadratic. After any other answer it is ready for the
// next request. Request bodies are the caller's business: Request tells how they are framed,
// and ChunkedBodySkipper walks over a chunked one.
//
// Choices (RFC 9112 allows each):
// - Lines may end in CRLF or a bare LF; empty lines before the request line are skipped.
// - Strict where leniency invites request smuggling: a single SP between the request-line parts,
//   no whitespace before a header's colon, no obsolete line folding, no control characters,
//   Content-Length only digits (repeats must agree), Transfer-Encoding only with `chunked` last
//   and never together with Content-Length or in HTTP/1.0. Any of these is bad_request.
// - HTTP/1.x with x > 1 is served as HTTP/1.1; any other major version is bad_request.
// - Host is not required: the contract answers any GET.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace chronos::http {

// The largest request head accepted, blank line included; beyond it: head_too_large (431).
inline constexpr std::size_t kMaxHeadBytes = 8192;

enum class ParseStatus {
  need_more,       // no complete head yet: call again when more bytes arrived
  complete,        // `request` is filled in
  bad_request,     // malformed: answer 400 and close
  head_too_large,  // no end of head within kMaxHeadBytes: answer 431 and close
};

enum class BodyFraming {
  none,            // no body
  content_length,  // Request::content_length bytes follow the head
  chunked,         // a chunked body follows the head (see ChunkedBodySkipper)
};

struct Request {
  std::string_view method;      // e.g. "GET": case-sensitive; views into the parsed bytes
  std::string_view target;      // e.g. "/index.html"
  int minor_version = 1;        // the x of HTTP/1.x
  bool keep_alive = true;       // whether the connection may serve another request after this one
  std::size_t head_length = 0;  // bytes from the first one given up to the blank line, inclusive
  BodyFraming body = BodyFraming::none;
  std::uint64_t content_length = 0;  // when body == content_length
};

class RequestParser {
 public:
  // `data` starts at the first byte of a request (or of empty lines before it).
  ParseStatus parse(std::string_view data, Request& request) noexcept;

  // Forgets a partial search: needed only if the next parse starts at different bytes
  // without this one having answered anything but need_more.
  void reset() noexcept { scanned_ = 0; }

 private:
  std::size_t scanned_ = 0;  // data[0, scanned_) holds no end of head
};

// Walks over a chunked request body (chunk sizes, extensions, data, trailer fields) without
// keeping any of it. Feed it the bytes after the head, then whatever arrives after them.
class ChunkedBodySkipper {
 public:
  enum class Status { need_more, done, bad };

  // Consumes bytes of `data` up to the end of the body; `used` tells how many. need_more means
  // all of `data` was used and the body goes on. After done or bad, reset() before reuse.
  Status feed(std::string_view data, std::size_t& used) noexcept;

  void reset() noexcept { *this = ChunkedBodySkipper(); }

 private:
  enum class State : std::uint8_t {
    size,           // hex digits of a chunk size
    extension,      // after the size: extensions up to the end of the line
    size_lf,        // CR seen at the end of a size line
    data,           // chunk data
    data_end,       // CRLF (or LF) after chunk data
    data_lf,        // CR seen after chunk data
    trailer_start,  // start of a trailer line, or of the final empty line
    trailer,        // inside a trailer line
    trailer_lf,     // CR seen at the start of the final empty line
  };
  State state_ = State::size;
  int digits_ = 0;
  std::uint64_t remaining_ = 0;  // chunk size being read, then chunk bytes left to skip
};

}  // namespace chronos::http
