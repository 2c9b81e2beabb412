// An HTTP service on the SDK's HTTP/1.1 parser (chronos/http.hpp): the guide in sdk/README.md.
//
//   GET /hello          200 "hello, HOST\n"
//   POST /echo          200, the request body sent back as it arrives, in chunked encoding
//                       (HTTP/1.0: without chunks, and the connection closes at its end)
//   other paths         404; other methods on these paths: 405 with Allow
//   malformed request   the parser's status (400, 414, 431, 501, 505), then close
#include <chronos/http.hpp>
#include <chronos/plugin.hpp>

#include <array>
#include <string>
#include <string_view>

namespace http = chronos::http;

class HttpService {
 public:
  struct Session {
    http::Parser parser;
    bool echoing = false;      // the body being read goes back to the client
    bool chunked = false;      // ... as chunks (HTTP/1.1)
    bool close_after = false;  // close once this request's body is read
  };

  HttpService(std::string_view /*config*/, chronos::Host) {}

  std::size_t on_data(chronos::Connection conn, Session& s, std::string_view data) {
    std::size_t pos = 0;
    for (;;) {
      if (s.parser.in_body()) {  // the body of the request answered last
        http::BodyPiece piece;
        const http::Result r = s.parser.parse_body(data.substr(pos), piece);
        pos += piece.consumed;
        if (r == http::Result::again) return pos;
        if (r == http::Result::error) return close(conn, data);
        if (r == http::Result::data) {
          if (s.echoing) send_piece(conn, s, piece.data);
          continue;
        }
        if (s.echoing && s.chunked) conn.send("0\r\n\r\n");  // the body ended: the last chunk
        s.echoing = false;
      }
      if (s.close_after) return close(conn, data);

      http::RequestWithFields<32> request;  // keeps up to 32 fields (more: 431)
      switch (s.parser.parse_request(data.substr(pos), request)) {
        case http::Result::again:
          return pos;
        case http::Result::error:
          reply(conn, s.parser.error_status(), "", true);
          return close(conn, data);
        default:
          break;
      }
      pos += request.head_length();
      s.close_after = !request.keep_alive();
      route(conn, s, request);
    }
  }

 private:
  void route(chronos::Connection conn, Session& s, const http::Request& request) {
    const std::string_view path = request.target().substr(0, request.target().find('?'));
    if (path == "/hello") {
      if (request.method() != "GET") return not_allowed(conn, s, "GET");
      return reply(conn, 200, "hello, " + std::string(request.host()) + "\n", s.close_after);
    }
    if (path == "/echo") {
      if (request.method() != "POST") return not_allowed(conn, s, "POST");
      // A client that asked may wait for this before it sends the body.
      if (request.expect_continue()) conn.send("HTTP/1.1 100 Continue\r\n\r\n");
      s.echoing = true;
      s.chunked = request.version_minor() >= 1;
      s.close_after |= !s.chunked;  // without chunks, the end of the body is the close
      std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n";
      if (s.chunked) head += "Transfer-Encoding: chunked\r\n";
      if (s.close_after) head += "Connection: close\r\n";
      conn.send(head + "\r\n");
      if (!s.parser.in_body() && s.chunked) conn.send("0\r\n\r\n");  // an empty body
      s.echoing = s.parser.in_body();
      return;
    }
    reply(conn, 404, "", s.close_after);
  }

  static void send_piece(chronos::Connection conn, const Session& s, std::string_view piece) {
    if (s.chunked) {
      std::array<char, CHRONOS_HTTP_CHUNK_HEADER_MAX> buffer;
      conn.send(http::chunk_header(piece.size(), buffer));
      conn.send(piece);
      conn.send("\r\n");
    } else {
      conn.send(piece);
    }
  }

  void not_allowed(chronos::Connection conn, const Session& s, std::string_view allow) {
    reply(conn, 405, "", s.close_after, "Allow: " + std::string(allow) + "\r\n");
  }

  // A complete reply with Content-Length; `body` empty means the reason phrase as text.
  static void reply(chronos::Connection conn, int status, std::string body, bool closing,
                    const std::string& extra = "") {
    if (body.empty()) body = std::string(http::reason(status)) + "\n";
    conn.send("HTTP/1.1 " + std::to_string(status) + " " + std::string(http::reason(status)) +
              "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\n" + extra + (closing ? "Connection: close\r\n" : "") + "\r\n" + body);
  }

  static std::size_t close(chronos::Connection conn, std::string_view data) {
    conn.close();  // nothing after this is read
    return data.size();
  }
};

CHRONOS_PLUGIN(HttpService, "http_service", "1.0.0")
