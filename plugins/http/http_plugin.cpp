// The shipped `http` plugin: answers GET and HEAD with a fixed body (config key `body`,
// default "hello\n"), with keep-alive and pipelining, on the SDK's HTTP/1.1 parser
// (chronos/http.hpp), whose rules decide what is malformed.
//
//   GET, HEAD            200, Content-Length, the body (HEAD: headers only)
//   other valid methods  405 with `Allow: GET, HEAD`; the connection stays open
//   malformed request    400, then close (the parser's verdict: smuggling patterns, no Host in
//                        HTTP/1.1, bare LF, ...); head over 8 KiB or 100 fields: 431 (a
//                        request line that long: 414); a transfer coding other than chunked:
//                        501; HTTP/2+ request line: 505
//   Connection: close    honoured (reply says so, then close); HTTP/1.0 closes unless it asked
//                        for keep-alive (the reply then says Connection: keep-alive)
//   request bodies       Content-Length and chunked bodies are read to their end and dropped,
//                        across calls, so the next request is read in frame; a malformed
//                        chunked body closes the connection (its reply already went)
//   Expect: 100-continue with a body: answered at once with Connection: close, then closed
//                        (the client may or may not send the body after a final status)
//
// Fast path: every possible reply is rendered once at init, so serving a request is a parse
// and a memcpy into a stack buffer; all replies of one on_data go out in one send.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include "chronos/http.hpp"
#include "chronos/plugin.hpp"
#include "chronos/plugin_config.h"

namespace {

namespace http = chronos::http;

// How the reply ends the exchange: its Connection header, and whether we close after it.
enum Persistence { keep_alive_11, keep_alive_10, close_after, persistence_count };

std::string render(int status, std::string_view extra_headers, std::string_view body,
                   bool send_body, Persistence persistence) {
  static constexpr std::string_view connection[] = {"", "Connection: keep-alive\r\n",
                                                    "Connection: close\r\n"};
  std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
  out.append(http::reason(status)).append("\r\nServer: chronos\r\n");
  out.append("Content-Type: text/plain\r\nContent-Length: ").append(std::to_string(body.size()));
  out.append("\r\n").append(extra_headers).append(connection[persistence]).append("\r\n");
  if (send_body) out.append(body);
  return out;
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

  // Sends what is buffered, then closes the connection: nothing after this reply is read.
  void close() noexcept {
    flush();
    conn_.close();
  }

 private:
  void flush() noexcept {
    if (used_ > 0) conn_.send(buffer_.data(), used_);
    used_ = 0;
  }

  chronos::Connection conn_;
  std::size_t used_ = 0;
  std::array<char, 16384> buffer_;  // uninitialised on purpose: only used_ bytes are read
};

class HttpPlugin {
 public:
  // Per connection: the parser knows where we are between and inside requests.
  struct Session {
    http::Parser parser;
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
      get_[p] = render(200, "", body, true, persistence);
      head_[p] = render(200, "", body, false, persistence);
      not_allowed_[p] =
          render(405, "Allow: GET, HEAD\r\n", "method not allowed\n", true, persistence);
    }
    for (const int status : kErrorStatuses) {
      std::string text(http::reason(status));
      std::transform(text.begin(), text.end(), text.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      errors_[error_index(status)] = render(status, "", text + "\n", true, close_after);
    }
  }

  std::size_t on_data(chronos::Connection conn, Session& s, std::string_view data) const {
    Output out(conn);
    std::size_t pos = 0;
    for (;;) {
      // First read the body of the request answered last, however it is framed.
      while (s.parser.in_body()) {
        http::BodyPiece piece;
        const http::Result r = s.parser.parse_body(data.substr(pos), piece);
        pos += piece.consumed;
        if (r == http::Result::again) return pos;
        if (r == http::Result::error) {
          out.close();
          return data.size();
        }
      }

      http::Request request;
      switch (s.parser.parse_request(data.substr(pos), request)) {
        case http::Result::again:
          return pos;
        case http::Result::error:
          out.append(errors_[error_index(s.parser.error_status())]);
          out.close();
          return data.size();
        default:
          break;
      }
      pos += request.head_length();

      const bool body = request.framing() != http::Framing::none;
      const Persistence persistence = !request.keep_alive() || (body && request.expect_continue())
                                          ? close_after
                                      : request.version_minor() == 0 ? keep_alive_10
                                                                     : keep_alive_11;
      if (request.method() == "GET") {
        out.append(get_[persistence]);
      } else if (request.method() == "HEAD") {
        out.append(head_[persistence]);
      } else {
        out.append(not_allowed_[persistence]);
      }
      if (persistence == close_after) {
        out.close();  // whatever follows, pipelined or body, is never read
        return data.size();
      }
    }
  }

 private:
  // The parser's error statuses, each with a reply rendered at init.
  static constexpr int kErrorStatuses[] = {400, 414, 431, 501, 505};
  static constexpr std::size_t error_index(int status) {
    for (std::size_t i = 0; i < std::size(kErrorStatuses); ++i)
      if (kErrorStatuses[i] == status) return i;
    return 0;  // anything else is answered as a bad request
  }

  std::string get_[persistence_count], head_[persistence_count], not_allowed_[persistence_count];
  std::string errors_[std::size(kErrorStatuses)];
};

}  // namespace

CHRONOS_PLUGIN(HttpPlugin, "http", "1.1.0")
