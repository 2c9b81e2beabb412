// A C++ layer over the HTTP/1.1 parser (chronos/http.h): the same rules, with string_views.
//
//   chronos::http::Parser parser;                       // per connection (in the Session)
//
//   std::size_t on_data(chronos::Connection conn, Session& s, std::string_view data) {
//     std::size_t pos = 0;
//     for (;;) {
//       if (s.parser.in_body()) {                       // the body of the request before
//         chronos::http::BodyPiece piece;
//         const auto r = s.parser.parse_body(data.substr(pos), piece);
//         pos += piece.consumed;
//         if (r == chronos::http::Result::data) { use(piece.data); continue; }
//         if (r == chronos::http::Result::again) return pos;
//         if (r == chronos::http::Result::error) { conn.close(); return data.size(); }
//       }
//       chronos::http::Request request;                // or RequestWithFields<32>
//       switch (s.parser.parse_request(data.substr(pos), request)) {
//         case chronos::http::Result::again: return pos;
//         case chronos::http::Result::error: answer s.parser.error_status(), close, return
//         default: break;
//       }
//       pos += request.head_length();
//       ... answer request.method(), request.target() ...
//     }
//   }
//
// Views returned point into the bytes given to the call, as in the C API. No exceptions, no
// allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "chronos/http.h"

namespace chronos::http {

enum class Result : int {
  error = CHRONOS_HTTP_ERROR,  // malformed: answer Parser::error_status(), then close
  again = CHRONOS_HTTP_AGAIN,  // need more bytes
  done = CHRONOS_HTTP_DONE,    // a head is complete, or a body ended
  data = CHRONOS_HTTP_DATA,    // a piece of body
};

enum class Framing : int {
  none = CHRONOS_HTTP_BODY_NONE,
  length = CHRONOS_HTTP_BODY_LENGTH,
  chunked = CHRONOS_HTTP_BODY_CHUNKED,
  until_close = CHRONOS_HTTP_BODY_UNTIL_CLOSE,
};

struct Field {
  std::string_view name;  // as sent: compare case-insensitively
  std::string_view value;
};

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (chronos_http_lower_(a[i]) != chronos_http_lower_(b[i])) return false;
  return true;
}

// One parsed head (request or response), a view over chronos_http_message. Without storage
// for fields only the members below are known; see MessageWithFields for the fields.
class Message {
 public:
  Message() noexcept { chronos_http_message_init(&m_, nullptr, 0); }
  explicit Message(std::span<chronos_http_field> storage) noexcept {
    chronos_http_message_init(&m_, storage.data(), storage.size());
  }
  Message(const Message&) = delete;  // m_ may point at the storage of a derived object
  Message& operator=(const Message&) = delete;

  std::string_view method() const noexcept { return {m_.method, m_.method_len}; }
  std::string_view target() const noexcept { return {m_.target, m_.target_len}; }
  std::string_view host() const noexcept { return {m_.host, m_.host_len}; }
  int status() const noexcept { return m_.status; }
  std::string_view reason() const noexcept { return {m_.reason, m_.reason_len}; }
  int version_minor() const noexcept { return m_.version_minor; }
  bool keep_alive() const noexcept { return (m_.flags & CHRONOS_HTTP_KEEP_ALIVE) != 0; }
  bool expect_continue() const noexcept { return (m_.flags & CHRONOS_HTTP_EXPECT_CONTINUE) != 0; }
  bool upgrade() const noexcept { return (m_.flags & CHRONOS_HTTP_UPGRADE) != 0; }
  Framing framing() const noexcept { return static_cast<Framing>(m_.framing); }
  std::uint64_t content_length() const noexcept { return m_.content_length; }
  std::size_t head_length() const noexcept { return m_.head_length; }

  // The fields, when parsed with storage for them.
  std::size_t field_count() const noexcept { return m_.fields != nullptr ? m_.field_count : 0; }
  Field field(std::size_t i) const noexcept {
    const chronos_http_field& f = m_.fields[i];
    return {{f.name, f.name_len}, {f.value, f.value_len}};
  }
  // The first field named `name` (any case).
  std::optional<std::string_view> find(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < field_count(); ++i)
      if (iequals(field(i).name, name)) return field(i).value;
    return std::nullopt;
  }

  chronos_http_message* raw() noexcept { return &m_; }
  const chronos_http_message* raw() const noexcept { return &m_; }

 private:
  chronos_http_message m_;
};

// A Message that keeps up to N fields (more: the head is refused with 431).
template <std::size_t N>
class MessageWithFields : public Message {
 public:
  MessageWithFields() noexcept : Message(std::span<chronos_http_field>(storage_)) {}

 private:
  std::array<chronos_http_field, N> storage_;  // left uninitialised: the parser fills it
};

using Request = Message;
using Response = Message;
template <std::size_t N>
using RequestWithFields = MessageWithFields<N>;
template <std::size_t N>
using ResponseWithFields = MessageWithFields<N>;

// One step through a body.
struct BodyPiece {
  std::size_t consumed = 0;   // input bytes used, framing included
  std::string_view data;      // Result::data: body bytes
  std::string_view trailers;  // Result::done after a chunked body: its trailer field lines

  // Calls fn(Field) for each trailer field.
  template <class Fn>
  void for_each_trailer(Fn&& fn) const {
    const char* cursor = trailers.data();
    chronos_http_field f;
    while (chronos_http_next_field(&cursor, trailers.data() + trailers.size(), &f))
      fn(Field{{f.name, f.name_len}, {f.value, f.value_len}});
  }
};

// One connection's parser: plain data, cheap to keep in a Session.
class Parser {
 public:
  explicit Parser(unsigned options = 0) noexcept { chronos_http_parser_init(&p_, options); }

  void set_limits(std::size_t max_head_bytes, unsigned max_fields) noexcept {
    chronos_http_parser_set_limits(&p_, max_head_bytes, max_fields);
  }

  Result parse_request(std::string_view data, Message& request) noexcept {
    return static_cast<Result>(
        chronos_http_parse_request(&p_, data.data(), data.size(), request.raw()));
  }
  // `request_method`: the method of the request this answers (HEAD and CONNECT matter).
  Result parse_response(std::string_view data, std::string_view request_method,
                        Message& response) noexcept {
    return static_cast<Result>(chronos_http_parse_response(&p_, data.data(), data.size(),
                                                           request_method.data(),
                                                           request_method.size(), response.raw()));
  }
  Result parse_body(std::string_view data, BodyPiece& piece) noexcept {
    chronos_http_body body;
    const int r = chronos_http_parse_body(&p_, data.data(), data.size(), &body);
    piece.consumed = body.consumed;
    piece.data = {body.data, body.len};
    piece.trailers = {body.trailers, body.trailers_len};
    return static_cast<Result>(r);
  }
  // The peer closed: done if that ends the message cleanly.
  Result finish() noexcept { return static_cast<Result>(chronos_http_parser_finish(&p_)); }

  bool in_body() const noexcept { return chronos_http_parser_in_body(&p_) != 0; }
  int error_status() const noexcept { return p_.error_status; }
  std::string_view error() const noexcept { return p_.error != nullptr ? p_.error : ""; }

  chronos_http_parser* raw() noexcept { return &p_; }

 private:
  chronos_http_parser p_;
};

// "1a\r\n" for a chunk of `size` bytes, written into `buffer`.
inline std::string_view chunk_header(std::uint64_t size,
                                     std::array<char, CHRONOS_HTTP_CHUNK_HEADER_MAX>& buffer) {
  return {buffer.data(), chronos_http_chunk_header(buffer.data(), size)};
}

// The standard reason phrase, or "".
inline std::string_view reason(int status) noexcept { return chronos_http_reason(status); }

}  // namespace chronos::http
