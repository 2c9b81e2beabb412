// Shared by the HTTP libFuzzer targets (http_request_fuzz, http_response_fuzz, http_split_fuzz):
// drives chronos/http.h over one byte stream the way a plugin's on_data does, and checks the
// API's promises on every call.
//
// The stream arrives in pieces (a Schedule). Each call gets a fresh heap copy of exactly the
// bytes not yet consumed, so AddressSanitizer sees any read past them, and a parser that kept a
// pointer into an earlier call's bytes would read freed memory. Heads go through
// parse_request/parse_response, bodies through parse_body; at the end of the stream
// parser_finish says whether the connection closed cleanly.
//
// Every call is checked: views inside the bytes given, head_length within the input and the
// limit, body.consumed within the input, progress (DONE/DATA consume bytes) or AGAIN, bounded
// buffering (what AGAIN leaves unconsumed is at most one head or one chunk-size line), field
// and trailer lines well formed, the error sticky. A failed check prints what broke and aborts.
//
// What happened is also written down as a Transcript, in stream offsets, so that two runs of
// the same stream with different splits can be compared (http_split_fuzz).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chronos/http.h"

namespace http_fuzz {

[[noreturn]] inline void fail(const char* what, std::size_t offset) {
  std::fprintf(stderr, "invariant broken: %s (stream offset %zu)\n", what, offset);
  std::abort();
}

#define HTTP_FUZZ_CHECK(cond, what)             \
  do {                                          \
    if (!(cond)) ::http_fuzz::fail(what, pos_); \
  } while (0)

// How the parser is set up: chosen from a byte of the input.
struct Config {
  bool response = false;
  std::string method = "GET";  // responses: the request's method
  unsigned options = 0;        // CHRONOS_HTTP_LENIENT_LF or 0
  std::size_t max_head = 8192;
  unsigned max_fields = 100;
  std::size_t capacity = 64;  // fields array; 0: no array (NULL)

  // bit 0-1: method (responses), bit 2: lenient LF, bits 3-4: limits, bits 5-6: fields array.
  static Config from_byte(std::uint8_t b, bool response) {
    static const char* const methods[] = {"GET", "HEAD", "CONNECT", "POST"};
    static const std::size_t heads[] = {8192, 256, 8192, 100};
    static const unsigned fields[] = {100, 100, 4, 2};
    static const std::size_t capacities[] = {64, 0, 3, 128};
    Config c;
    c.response = response;
    c.method = methods[b & 3];
    c.options = (b & 4) ? CHRONOS_HTTP_LENIENT_LF : 0;
    c.max_head = heads[(b >> 3) & 3];
    c.max_fields = fields[(b >> 3) & 3];
    c.capacity = capacities[(b >> 5) & 3];
    return c;
  }
};

// Where the stream is cut: each call to next() gives the size of the next piece to arrive.
class Schedule {
 public:
  enum Kind { whole, random, byte_by_byte };
  Schedule(Kind kind, std::uint32_t seed) : kind_(kind), state_(0x9E3779B9u ^ seed) {
    static const std::uint32_t maxima[] = {3, 16, 200, 3000};
    max_piece_ = maxima[seed & 3];
  }
  std::size_t next(std::size_t left) {
    if (kind_ == whole) return left;
    if (kind_ == byte_by_byte) return std::min<std::size_t>(1, left);
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return std::min<std::size_t>(left, 1 + state_ % max_piece_);
  }

 private:
  Kind kind_;
  std::uint32_t state_;
  std::uint32_t max_piece_ = 1;
};

using Transcript = std::vector<std::string>;

class Driver {
 public:
  Driver(const Config& config, std::string_view stream, bool extra_checks)
      : c_(config), in_(stream), extra_(extra_checks) {
    chronos_http_parser_init(&p_, c_.options);
    chronos_http_parser_set_limits(&p_, c_.max_head == 8192 ? 0 : c_.max_head,
                                   c_.max_fields == 100 ? 0 : c_.max_fields);
    fields_.resize(c_.capacity > 0 ? c_.capacity : 1);
  }

  // Runs the whole stream; returns what happened.
  Transcript run(Schedule schedule) {
    avail_ = schedule.next(in_.size());
    std::size_t calls = 0;
    for (;;) {
      HTTP_FUZZ_CHECK(++calls <= 4 * in_.size() + 16, "no progress: too many calls");
      const Step s = chronos_http_parser_in_body(&p_) ? body_step() : head_step();
      if (s == Step::more) {
        if (avail_ == in_.size()) break;
        avail_ += schedule.next(in_.size() - avail_);
      } else if (s == Step::stop) {
        return std::move(t_);
      }
    }
    // The peer closed the connection.
    flush_body();
    const int r = chronos_http_parser_finish(&p_);
    const std::string_view rest = in_.substr(pos_);
    if (r == CHRONOS_HTTP_DONE) {
      // Only empty lines (requests) or nothing may be left over.
      for (const char ch : rest)
        HTTP_FUZZ_CHECK((!c_.response && (ch == '\r' || ch == '\n')),
                        "finish: DONE with a partial message left over");
      record("finish done");
    } else {
      HTTP_FUZZ_CHECK(r == CHRONOS_HTTP_ERROR, "finish: neither DONE nor ERROR");
      on_error("finish");
    }
    return std::move(t_);
  }

 private:
  enum class Step { go_on, more, stop };

  // A fresh heap copy of the unconsumed bytes that have arrived.
  struct Buffer {
    std::unique_ptr<char[]> bytes;
    std::size_t len;
    const char* data() const { return bytes.get(); }
  };
  Buffer fresh() const {
    const std::size_t len = avail_ - pos_;
    Buffer b{std::unique_ptr<char[]>(new char[len > 0 ? len : 1]), len};
    if (len > 0) std::memcpy(b.bytes.get(), in_.data() + pos_, len);
    return b;
  }

  // The stream offset of a view into `b`, checked to lie in its first `limit` bytes; -1 for an
  // empty view (which may point at a static "").
  long long offset(const Buffer& b, const char* p, std::size_t n, std::size_t limit,
                   const char* what) const {
    if (n == 0) return -1;
    if (!(p >= b.data() && n <= limit && static_cast<std::size_t>(p - b.data()) <= limit - n))
      fail(what, pos_);
    return static_cast<long long>(pos_ + static_cast<std::size_t>(p - b.data()));
  }

  void record(std::string event) { t_.push_back(std::move(event)); }

  // A field line as the parser returns it: name a token, value without CR/LF, other control
  // characters but HTAB, or surrounding whitespace.
  void check_field(const chronos_http_field& f) const {
    HTTP_FUZZ_CHECK(f.name_len > 0, "empty field name");
    for (std::size_t i = 0; i < f.name_len; ++i)
      HTTP_FUZZ_CHECK(chronos_http_is_tchar_(f.name[i]), "field name not a token");
    for (std::size_t i = 0; i < f.value_len; ++i) {
      const unsigned char ch = static_cast<unsigned char>(f.value[i]);
      HTTP_FUZZ_CHECK(ch == '\t' || (ch >= 0x20 && ch != 0x7f), "control character in a value");
    }
    if (f.value_len > 0) {
      HTTP_FUZZ_CHECK(f.value[0] != ' ' && f.value[0] != '\t', "value starts with whitespace");
      const char last = f.value[f.value_len - 1];
      HTTP_FUZZ_CHECK(last != ' ' && last != '\t', "value ends with whitespace");
    }
  }

  void on_error(const char* where) {
    const int status = p_.error_status;
    HTTP_FUZZ_CHECK(p_.error != nullptr && p_.error[0] != '\0', "ERROR without a reason");
    if (c_.response)
      HTTP_FUZZ_CHECK(status == 502, "response error status not 502");
    else
      HTTP_FUZZ_CHECK(
          status == 400 || status == 414 || status == 431 || status == 501 || status == 505,
          "request error status not 400/414/431/501/505");
    HTTP_FUZZ_CHECK(!chronos_http_parser_in_body(&p_), "in_body after ERROR");
    // The parser stays in error, whatever is called next.
    const char* const why = p_.error;
    chronos_http_message m;
    chronos_http_message_init(&m, nullptr, 0);
    chronos_http_body body;
    static const char get[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    HTTP_FUZZ_CHECK(chronos_http_parse_request(&p_, get, sizeof get - 1, &m) == CHRONOS_HTTP_ERROR,
                    "parse_request after ERROR");
    HTTP_FUZZ_CHECK(
        chronos_http_parse_response(&p_, ok, sizeof ok - 1, "GET", 3, &m) == CHRONOS_HTTP_ERROR,
        "parse_response after ERROR");
    HTTP_FUZZ_CHECK(chronos_http_parse_body(&p_, "0\r\n\r\n", 5, &body) == CHRONOS_HTTP_ERROR,
                    "parse_body after ERROR");
    HTTP_FUZZ_CHECK(chronos_http_parser_finish(&p_) == CHRONOS_HTTP_ERROR, "finish after ERROR");
    HTTP_FUZZ_CHECK(p_.error_status == status && p_.error == why, "error changed after ERROR");
    record(std::string("error in ") + where + ": " + std::to_string(status) + " " + why);
  }

  Step head_step() {
    const Buffer b = fresh();
    chronos_http_message m;
    chronos_http_message_init(&m, c_.capacity > 0 ? fields_.data() : nullptr, c_.capacity);
    const int r = parse_head(b, m);
    if (r == CHRONOS_HTTP_ERROR) {
      on_error("head");
      return Step::stop;
    }
    if (r == CHRONOS_HTTP_AGAIN) {
      HTTP_FUZZ_CHECK(b.len <= c_.max_head, "head AGAIN with more than max_head bytes");
      if (extra_) {  // asking again with the same bytes (moved) changes nothing
        const Buffer again = fresh();
        chronos_http_message_init(&m, c_.capacity > 0 ? fields_.data() : nullptr, c_.capacity);
        HTTP_FUZZ_CHECK(parse_head(again, m) == CHRONOS_HTTP_AGAIN, "head AGAIN not repeatable");
      }
      return Step::more;
    }
    HTTP_FUZZ_CHECK(r == CHRONOS_HTTP_DONE, "head: unknown result");
    check_head(b, m);
    pos_ += m.head_length;
    if (!chronos_http_parser_in_body(&p_)) {
      HTTP_FUZZ_CHECK(m.framing == CHRONOS_HTTP_BODY_NONE, "body framing but not in_body");
      if (extra_) {  // parse_body right after a head without a body: DONE at once
        chronos_http_body body;
        HTTP_FUZZ_CHECK(chronos_http_parse_body(&p_, "x", 1, &body) == CHRONOS_HTTP_DONE &&
                            body.consumed == 0 && !chronos_http_parser_in_body(&p_),
                        "parse_body without a body");
      }
    } else {
      HTTP_FUZZ_CHECK(m.framing != CHRONOS_HTTP_BODY_NONE, "in_body without body framing");
    }
    framing_ = m.framing;
    length_left_ = m.framing == CHRONOS_HTTP_BODY_LENGTH ? m.content_length : 0;
    return Step::go_on;
  }

  int parse_head(const Buffer& b, chronos_http_message& m) {
    return c_.response ? chronos_http_parse_response(&p_, b.data(), b.len, c_.method.data(),
                                                     c_.method.size(), &m)
                       : chronos_http_parse_request(&p_, b.data(), b.len, &m);
  }

  void check_head(const Buffer& b, const chronos_http_message& m) {
    const std::size_t n = m.head_length;
    HTTP_FUZZ_CHECK(n > 0 && n <= b.len, "head_length beyond the input");
    HTTP_FUZZ_CHECK(n <= c_.max_head, "head_length beyond max_head");
    HTTP_FUZZ_CHECK(m.field_count <= c_.max_fields, "more fields than max_fields");
    HTTP_FUZZ_CHECK(c_.capacity == 0 || m.field_count <= c_.capacity, "more fields than capacity");
    HTTP_FUZZ_CHECK(m.version_minor >= 0 && m.version_minor <= 9, "version_minor");
    HTTP_FUZZ_CHECK(
        m.framing >= CHRONOS_HTTP_BODY_NONE && m.framing <= CHRONOS_HTTP_BODY_UNTIL_CLOSE,
        "unknown framing");
    HTTP_FUZZ_CHECK(m.framing != CHRONOS_HTTP_BODY_LENGTH || m.content_length > 0,
                    "BODY_LENGTH with content_length 0");
    HTTP_FUZZ_CHECK(m.content_length < (std::uint64_t{1} << 63), "content_length >= 2^63");
    // Like an application, count the head's end: it must be CRLF CRLF or (lenient) LF LF.
    HTTP_FUZZ_CHECK(b.data()[n - 1] == '\n', "head does not end in LF");
    if (!(c_.options & CHRONOS_HTTP_LENIENT_LF))
      HTTP_FUZZ_CHECK(n >= 4 && std::memcmp(b.data() + n - 4, "\r\n\r\n", 4) == 0,
                      "strict head does not end in CRLF CRLF");

    std::string e = "head len=" + std::to_string(n);
    const auto view = [&](const char* name, const char* p, std::size_t len) {
      e += std::string(" ") + name + "=" + std::to_string(offset(b, p, len, n, name)) + "+" +
           std::to_string(len);
    };
    if (c_.response) {
      HTTP_FUZZ_CHECK(m.status >= 100 && m.status <= 599, "status out of range");
      HTTP_FUZZ_CHECK(m.method_len == 0 && m.target_len == 0 && m.host_len == 0,
                      "request members set in a response");
      HTTP_FUZZ_CHECK(
          m.framing != CHRONOS_HTTP_BODY_UNTIL_CLOSE || !(m.flags & CHRONOS_HTTP_KEEP_ALIVE),
          "UNTIL_CLOSE response marked keep-alive");
      view("reason", m.reason, m.reason_len);
      e += " status=" + std::to_string(m.status);
    } else {
      HTTP_FUZZ_CHECK(m.method_len > 0 && m.target_len > 0, "empty method or target");
      HTTP_FUZZ_CHECK(m.framing != CHRONOS_HTTP_BODY_UNTIL_CLOSE, "request read until close");
      for (std::size_t i = 0; i < m.method_len; ++i)
        HTTP_FUZZ_CHECK(chronos_http_is_tchar_(m.method[i]), "method not a token");
      for (std::size_t i = 0; i < m.target_len; ++i)
        HTTP_FUZZ_CHECK(m.target[i] > 0x20 && m.target[i] < 0x7f, "bad byte in the target");
      view("method", m.method, m.method_len);
      view("target", m.target, m.target_len);
      view("host", m.host, m.host_len);
      HTTP_FUZZ_CHECK(m.status == 0 && m.reason_len == 0, "response members set in a request");
    }
    e += " minor=" + std::to_string(m.version_minor) + " flags=" + std::to_string(m.flags) +
         " framing=" + std::to_string(m.framing) + " cl=" + std::to_string(m.content_length) +
         " fields=" + std::to_string(m.field_count);

    if (m.fields != nullptr) {
      for (std::size_t i = 0; i < m.field_count; ++i) {
        const chronos_http_field& f = m.fields[i];
        check_field(f);
        view("name", f.name, f.name_len);
        view("value", f.value, f.value_len);
      }
      // The field block read again with chronos_http_next_field gives the same fields.
      if (m.field_count > 0) {
        const char* cursor = m.fields[0].name;
        chronos_http_field g;
        std::size_t k = 0;
        while (chronos_http_next_field(&cursor, b.data() + n, &g)) {
          HTTP_FUZZ_CHECK(k < m.field_count, "next_field finds more fields than the head");
          const chronos_http_field& f = m.fields[k++];
          HTTP_FUZZ_CHECK(g.name == f.name && g.name_len == f.name_len &&
                              g.value_len == f.value_len &&
                              (g.value_len == 0 || g.value == f.value),
                          "next_field disagrees with the head's fields");
        }
        HTTP_FUZZ_CHECK(k == m.field_count, "next_field finds fewer fields than the head");
      }
      if (!c_.response) {  // Host: required in HTTP/1.1, and what m.host says
        std::size_t len = 0;
        const char* host = chronos_http_find_field(&m, "host", &len);
        HTTP_FUZZ_CHECK(host != nullptr || m.version_minor == 0, "HTTP/1.1 request without Host");
        if (host != nullptr)
          HTTP_FUZZ_CHECK(len == m.host_len && (len == 0 || host == m.host),
                          "find_field(host) differs from host");
        else
          HTTP_FUZZ_CHECK(m.host_len == 0, "host set without a Host field");
      }
    }
    record(std::move(e));
  }

  // The body bytes of the current message, merged: pieces depend on the split.
  void flush_body() {
    if (!body_.empty() || in_message_body_) {
      record("body " + std::to_string(body_.size()) + ":" + body_);
      body_.clear();
    }
    in_message_body_ = false;
  }

  Step body_step() {
    const Buffer b = fresh();
    chronos_http_body body;
    const int r = chronos_http_parse_body(&p_, b.data(), b.len, &body);
    in_message_body_ = true;
    if (r == CHRONOS_HTTP_ERROR) {
      flush_body();
      on_error("body");
      return Step::stop;
    }
    HTTP_FUZZ_CHECK(body.consumed <= b.len, "body consumed beyond the input");
    if (r == CHRONOS_HTTP_DATA) {
      HTTP_FUZZ_CHECK(body.len > 0 && body.consumed > 0, "DATA without data");
      offset(b, body.data, body.len, body.consumed, "body data outside what was consumed");
      body_.append(body.data, body.len);
      if (framing_ == CHRONOS_HTTP_BODY_LENGTH) {
        HTTP_FUZZ_CHECK(body.len <= length_left_, "more body than Content-Length");
        length_left_ -= body.len;
        HTTP_FUZZ_CHECK(body.consumed == body.len, "a Content-Length body with framing bytes");
        // in_body stays set after the last byte: parse_body's DONE (consumed 0) ends the body.
        HTTP_FUZZ_CHECK(chronos_http_parser_in_body(&p_), "Content-Length body ended before DONE");
      }
      if (framing_ == CHRONOS_HTTP_BODY_UNTIL_CLOSE)
        HTTP_FUZZ_CHECK(body.consumed == b.len && chronos_http_parser_in_body(&p_),
                        "UNTIL_CLOSE body");
      pos_ += body.consumed;
      return Step::go_on;
    }
    if (r == CHRONOS_HTTP_DONE) {
      HTTP_FUZZ_CHECK(!chronos_http_parser_in_body(&p_), "in_body after the body's DONE");
      if (framing_ == CHRONOS_HTTP_BODY_LENGTH) {  // after the DATA piece with the last byte
        HTTP_FUZZ_CHECK(length_left_ == 0, "Content-Length body DONE before its last byte");
        HTTP_FUZZ_CHECK(body.consumed == 0 && body.trailers_len == 0, "Content-Length DONE");
        flush_body();
        return Step::go_on;
      }
      HTTP_FUZZ_CHECK(framing_ == CHRONOS_HTTP_BODY_CHUNKED, "body DONE but not chunked");
      HTTP_FUZZ_CHECK(body.consumed > 0, "body DONE without consuming the last bytes");
      const long long at =
          offset(b, body.trailers, body.trailers_len, body.consumed, "trailers outside the input");
      if (body.trailers_len > 0) {
        HTTP_FUZZ_CHECK(body.trailers_len <= c_.max_head, "trailer section beyond max_head");
        HTTP_FUZZ_CHECK(body.trailers[body.trailers_len - 1] == '\n', "trailers do not end in LF");
        const char* cursor = body.trailers;
        const char* const end = body.trailers + body.trailers_len;
        chronos_http_field f;
        std::size_t count = 0;
        while (chronos_http_next_field(&cursor, end, &f)) {
          check_field(f);
          ++count;
        }
        HTTP_FUZZ_CHECK(cursor == end, "trailer section not made of field lines");
        HTTP_FUZZ_CHECK(count <= c_.max_fields, "more trailer fields than max_fields");
      }
      pos_ += body.consumed;
      flush_body();
      record("trailers " + std::to_string(at) + "+" + std::to_string(body.trailers_len));
      return Step::go_on;
    }
    HTTP_FUZZ_CHECK(r == CHRONOS_HTTP_AGAIN, "body: unknown result");
    HTTP_FUZZ_CHECK(chronos_http_parser_in_body(&p_), "body AGAIN but not in_body");
    // Bounded buffering: one chunk-size line, a CRLF or a trailer section at most.
    HTTP_FUZZ_CHECK(b.len - body.consumed <= std::max<std::size_t>(c_.max_head, 4096),
                    "body AGAIN leaves too much unconsumed");
    if (framing_ != CHRONOS_HTTP_BODY_CHUNKED)
      HTTP_FUZZ_CHECK(b.len == body.consumed, "a non-chunked body AGAIN leaves bytes");
    pos_ += body.consumed;
    if (extra_) {  // asking again with the rest (moved) consumes nothing more
      const Buffer again = fresh();
      chronos_http_body twice;
      HTTP_FUZZ_CHECK(
          chronos_http_parse_body(&p_, again.data(), again.len, &twice) == CHRONOS_HTTP_AGAIN &&
              twice.consumed == 0,
          "body AGAIN not repeatable");
    }
    return Step::more;
  }

  Config c_;
  std::string_view in_;
  bool extra_;
  chronos_http_parser p_;
  std::vector<chronos_http_field> fields_;
  std::size_t pos_ = 0;    // stream offset of the first unconsumed byte
  std::size_t avail_ = 0;  // bytes of the stream that have arrived
  int framing_ = CHRONOS_HTTP_BODY_NONE;
  std::uint64_t length_left_ = 0;
  std::string body_;
  bool in_message_body_ = false;
  Transcript t_;
};

#undef HTTP_FUZZ_CHECK

}  // namespace http_fuzz
