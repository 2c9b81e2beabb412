// The shipped `http` plugin: answers GET and HEAD with a fixed body (config key `body`,
// default "hello\n"), with keep-alive and pipelining.
//
//   GET, HEAD          200, Content-Length, the body (HEAD: headers only)
//   other methods      405 with `Allow: GET, HEAD`; the connection stays open
//   malformed request  400, then close        head over 8 KiB  431, then close
//   Connection: close  honoured (reply says so, then close); HTTP/1.0 closes unless it asked
//                      for keep-alive (the reply then says Connection: keep-alive)
//   request bodies     Content-Length and chunked bodies are read and dropped, across calls;
//                      a malformed chunked body closes the connection (its reply already went)
//
// Fast path: every possible reply is rendered once at init, so serving a request is a parse
// and a memcpy into a stack buffer; all replies of one on_data go out in one send.
#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include "chronos/plugin.hpp"
#include "chronos/plugin_config.h"
#include "http_parser.hpp"

namespace {

using chronos::http::BodyFraming;
using chronos::http::ChunkedBodySkipper;
using chronos::http::ParseStatus;
using chronos::http::Request;
using chronos::http::RequestParser;

// How the reply ends the exchange: its Connection header, and whether we close after it.
enum Persistence { keep_alive_11, keep_alive_10, close_after, persistence_count };

std::string render(std::string_view status, std::string_view extra_headers, std::size_t length,
                   std::string_view body, Persistence persistence) {
  static constexpr std::string_view connection[] = {"", "Connection: keep-alive\r\n",
                                                    "Connection: close\r\n"};
  std::string out;
  out.append("HTTP/1.1 ").append(status).append("\r\nServer: chronos\r\n");
  out.append("Content-Type: text/plain\r\nContent-Length: ").append(std::to_string(length));
  out.append("\r\n").append(extra_headers).append(connection[persistence]).append("\r\n");
  return out.append(body);
}

// Collects replies and hands them to the host in as few sends as possible: one, unless they
// outgrow the buffer (a large configured body), which only costs extra sends.
class Output {
 public:
  explicit Output(chronos::Connection conn) noexcept : conn_(conn) {}
  ~Output() { flush(); }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  void append(std::string_view bytes) noexcept {
    if (bytes.size() > buffer_.size() - used_) {
      flush();
      if (bytes.size() > buffer_.size()) {
        conn_.send(bytes);
        return;
      }
    }
    std::memcpy(buffer_.data() + used_, bytes.data(), bytes.size());
    used_ += bytes.size();
  }

  // Sends what is buffered. Must come before Connection::close, after which sends fail.
  void flush() noexcept {
    if (used_ > 0) conn_.send(buffer_.data(), used_);
    used_ = 0;
  }

 private:
  chronos::Connection conn_;
  std::size_t used_ = 0;
  std::array<char, 16384> buffer_;  // uninitialised on purpose: only used_ bytes are read
};

class HttpPlugin {
 public:
  // Per connection: where we are in the byte stream between requests.
  struct Session {
    RequestParser parser;
    ChunkedBodySkipper chunked;
    bool in_chunked = false;
    std::uint64_t body_left = 0;  // Content-Length bytes still to drop
  };

  HttpPlugin(std::string_view config, chronos::Host) {
    std::string body = "hello\n";
    const long n = chronos_config_string(config.data(), config.size(), "body", nullptr, 0);
    if (n == CHRONOS_CONFIG_INVALID) throw std::runtime_error("config: `body` must be a string");
    if (n >= 0) {
      body.assign(static_cast<std::size_t>(n) + 1, '\0');  // room for the NUL it writes
      chronos_config_string(config.data(), config.size(), "body", body.data(), body.size());
      body.resize(static_cast<std::size_t>(n));
    }
    for (int p = 0; p < persistence_count; ++p) {
      const auto persistence = static_cast<Persistence>(p);
      get_[p] = render("200 OK", "", body.size(), body, persistence);
      head_[p] = render("200 OK", "", body.size(), "", persistence);
      not_allowed_[p] = render("405 Method Not Allowed", "Allow: GET, HEAD\r\n", kNotAllowed.size(),
                               kNotAllowed, persistence);
    }
    bad_request_ = render("400 Bad Request", "", kBadRequest.size(), kBadRequest, close_after);
    too_large_ =
        render("431 Request Header Fields Too Large", "", kTooLarge.size(), kTooLarge, close_after);
  }

  std::size_t on_data(chronos::Connection conn, Session& s, std::string_view data) const {
    Output out(conn);
    std::size_t pos = 0;
    for (;;) {
      // First drop the body of the request answered last, however it is framed.
      if (s.body_left > 0) {
        const std::size_t skip =
            static_cast<std::size_t>(std::min<std::uint64_t>(s.body_left, data.size() - pos));
        pos += skip;
        s.body_left -= skip;
        if (s.body_left > 0) return pos;
      }
      if (s.in_chunked) {
        std::size_t used = 0;
        const auto status = s.chunked.feed(data.substr(pos), used);
        pos += used;
        if (status == ChunkedBodySkipper::Status::need_more) return pos;
        if (status == ChunkedBodySkipper::Status::bad) {
          out.flush();
          conn.close();
          return data.size();
        }
        s.chunked.reset();
        s.in_chunked = false;
      }

      Request request;
      switch (s.parser.parse(data.substr(pos), request)) {
        case ParseStatus::need_more:
          return pos;
        case ParseStatus::bad_request:
          out.append(bad_request_);
          out.flush();
          conn.close();
          return data.size();
        case ParseStatus::head_too_large:
          out.append(too_large_);
          out.flush();
          conn.close();
          return data.size();
        case ParseStatus::complete:
          break;
      }
      pos += request.head_length;

      const Persistence persistence = !request.keep_alive          ? close_after
                                      : request.minor_version == 0 ? keep_alive_10
                                                                   : keep_alive_11;
      if (request.method == "GET") {
        out.append(get_[persistence]);
      } else if (request.method == "HEAD") {
        out.append(head_[persistence]);
      } else {
        out.append(not_allowed_[persistence]);
      }
      if (persistence == close_after) {
        out.flush();
        conn.close();  // whatever follows, pipelined or body, is never read
        return data.size();
      }
      if (request.body == BodyFraming::content_length) s.body_left = request.content_length;
      s.in_chunked = request.body == BodyFraming::chunked;
    }
  }

 private:
  static constexpr std::string_view kNotAllowed = "method not allowed\n";
  static constexpr std::string_view kBadRequest = "bad request\n";
  static constexpr std::string_view kTooLarge = "request header fields too large\n";

  std::string get_[persistence_count], head_[persistence_count], not_allowed_[persistence_count];
  std::string bad_request_, too_large_;
};

}  // namespace

CHRONOS_PLUGIN(HttpPlugin, "http", "1.0.0")
