// chronos/http.h: the request line (RFC 9112 §2, §3), line ends, empty lines before a request,
// the HTTP version. Every case is fed whole, split at every byte and byte by byte.
#include <catch2/catch.hpp>
#include <string>

#include "http/split_check.hpp"

using namespace chronos_http_test;
using namespace std::string_literals;

namespace {

// A request line followed by a valid Host field and the blank line.
std::string with_host(std::string_view request_line) {
  return std::string(request_line) + "\r\nHost: example.com\r\n\r\n";
}

Head get_head(std::string_view method, std::string_view target, std::string_view in, int minor = 1,
              unsigned flags = kKeepAlive) {
  return request_head(method, target, "example.com", minor, flags, {{"Host", "example.com"}},
                      in.size());
}

void check_line_error(std::string_view request_line, int status) {
  const std::string in = with_host(request_line);
  INFO("request: \"" << escape(in) << "\"");
  CHECK(parse_request_all_splits(in) == error_head(status));
}

}  // namespace

TEST_CASE("http: a minimal HTTP/1.1 GET", "[http][request-line]") {
  const std::string in = with_host("GET / HTTP/1.1");
  CHECK(parse_request_all_splits(in) == get_head("GET", "/", in));
}

TEST_CASE("http: an HTTP/1.0 request without Host", "[http][request-line]") {
  const std::string in = "GET /index.html HTTP/1.0\r\n\r\n";
  CHECK(parse_request_all_splits(in) ==
        request_head("GET", "/index.html", "", 0, 0, {}, in.size()));
}

TEST_CASE("http: methods are tokens, case-sensitive, any length", "[http][request-line]") {
  // RFC 9110 §9.1: method = token, case-sensitive; unknown methods are still well-formed.
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "M-SEARCH", "PROPFIND", "get", "Get",
                             "X_Y.Z~1!#$%&'*+^`|", "A"}) {
    const std::string in = with_host(std::string(method) + " /x HTTP/1.1");
    INFO("method " << method);
    CHECK(parse_request_all_splits(in) == get_head(method, "/x", in));
  }
}

TEST_CASE("http: a method that is not a token is 400", "[http][request-line]") {
  for (const char* line :
       {"G@T / HTTP/1.1", "GE(T / HTTP/1.1", "GET\" / HTTP/1.1", "GE:T / HTTP/1.1",
        "GE,T / HTTP/1.1", "G\x80T / HTTP/1.1", "G\x7fT / HTTP/1.1", "GE\x01T / HTTP/1.1"}) {
    check_line_error(line, 400);
  }
}

TEST_CASE("http: empty method, leading whitespace", "[http][request-line]") {
  check_line_error(" / HTTP/1.1", 400);
  check_line_error(" GET / HTTP/1.1", 400);
  check_line_error("\tGET / HTTP/1.1", 400);
}

TEST_CASE("http: exactly one SP between the parts", "[http][request-line]") {
  // RFC 9112 §3; http.h: one SP each (the lenient whitespace parsing of §3 is not taken).
  check_line_error("GET  / HTTP/1.1", 400);
  check_line_error("GET /  HTTP/1.1", 400);
  check_line_error("GET\t/ HTTP/1.1", 400);
  check_line_error("GET /\tHTTP/1.1", 400);
  check_line_error("GET / HTTP/1.1 ", 400);
  check_line_error("GET / HTTP/1.1\t", 400);
  check_line_error("GET /\x0bHTTP/1.1", 400);
  check_line_error("GET\x0c/ HTTP/1.1", 400);
}

TEST_CASE("http: a request line without its version (HTTP/0.9 style) is 400",
          "[http][request-line]") {
  CHECK(parse_request_all_splits("GET /\r\n\r\n") == error_head(400));
  CHECK(parse_request_all_splits("GET\r\n\r\n") == error_head(400));
  CHECK(parse_request_all_splits("GET /\r\nHost: a\r\n\r\n") == error_head(400));
  CHECK(parse_request_all_splits("GET / \r\nHost: a\r\n\r\n") == error_head(400));
}

TEST_CASE("http: origin-form targets", "[http][request-line][target]") {
  for (const char* target : {"/", "/index.html", "/a/b/c?x=1&y=2", "//double", "/%20encoded",
                             "/~user/;p=1", "/path?q=a:b@c/d?e", "/!$&'()*+,;="}) {
    const std::string in = with_host(std::string("GET ") + target + " HTTP/1.1");
    INFO("target " << target);
    CHECK(parse_request_all_splits(in) == get_head("GET", target, in));
  }
}

TEST_CASE("http: absolute-form targets for any method but CONNECT",
          "[http][request-line][target]") {
  // RFC 9112 §3.2.2: absolute-form; Host stays required in HTTP/1.1 (§3.2).
  for (const char* target : {"http://example.com/", "http://example.com", "https://a.b:8443/x?y",
                             "HTTP://EXAMPLE.COM/", "urn:isbn:0451450523", "coap+tcp://h/x"}) {
    const std::string in = with_host(std::string("GET ") + target + " HTTP/1.1");
    INFO("target " << target);
    CHECK(parse_request_all_splits(in) == get_head("GET", target, in));
  }
}

TEST_CASE("http: authority-form only for CONNECT", "[http][request-line][target]") {
  // RFC 9112 §3.2.3: CONNECT uses authority-form, uri-host ":" port; nothing else may.
  const std::string in = with_host("CONNECT example.com:443 HTTP/1.1");
  CHECK(parse_request_all_splits(in) == get_head("CONNECT", "example.com:443", in));
  const std::string v4 = with_host("CONNECT 192.0.2.1:8080 HTTP/1.1");
  CHECK(parse_request_all_splits(v4) == get_head("CONNECT", "192.0.2.1:8080", v4));
  const std::string v6 = with_host("CONNECT [2001:db8::1]:443 HTTP/1.1");
  CHECK(parse_request_all_splits(v6) == get_head("CONNECT", "[2001:db8::1]:443", v6));

  check_line_error("CONNECT / HTTP/1.1", 400);
  check_line_error("CONNECT /example.com:443 HTTP/1.1", 400);
  check_line_error("CONNECT http://example.com:443/ HTTP/1.1", 400);
  check_line_error("CONNECT example.com HTTP/1.1", 400);           // the port is required
  check_line_error("CONNECT user@example.com:443 HTTP/1.1", 400);  // no userinfo
  check_line_error("CONNECT * HTTP/1.1", 400);
  check_line_error("CONNECT example.com:44x HTTP/1.1", 400);
}

TEST_CASE("http: asterisk-form only for OPTIONS", "[http][request-line][target]") {
  // RFC 9112 §3.2.4.
  const std::string in = with_host("OPTIONS * HTTP/1.1");
  CHECK(parse_request_all_splits(in) == get_head("OPTIONS", "*", in));
  check_line_error("GET * HTTP/1.1", 400);
  check_line_error("POST * HTTP/1.1", 400);
  check_line_error("options * HTTP/1.1", 400);  // methods are case-sensitive: not OPTIONS
  check_line_error("OPTIONS ** HTTP/1.1", 400);
}

TEST_CASE("http: targets of no form are 400", "[http][request-line][target]") {
  check_line_error("GET ?q=1 HTTP/1.1", 400);
  check_line_error("GET index.html HTTP/1.1", 400);
  check_line_error("GET 1http://x/ HTTP/1.1", 400);
  check_line_error("GET %2f HTTP/1.1", 400);
}

TEST_CASE("http: a target holds printable ASCII only", "[http][request-line][target]") {
  // RFC 9112 §3.2: whitespace or controls in the target make the request line invalid; so does
  // anything outside ASCII (http.h).
  check_line_error("GET /a b HTTP/1.1", 400);
  check_line_error("GET /a\tb HTTP/1.1", 400);
  check_line_error("GET /a\0b HTTP/1.1"s, 400);
  check_line_error("GET /a\x01 HTTP/1.1", 400);
  check_line_error("GET /a\x7f HTTP/1.1", 400);
  check_line_error("GET /caf\xc3\xa9 HTTP/1.1", 400);
  check_line_error("GET /\xff HTTP/1.1", 400);
  check_line_error("GET /a\x0b HTTP/1.1", 400);
}

TEST_CASE("http: HTTP/1.0 and HTTP/1.1", "[http][request-line][version]") {
  const std::string v10 = with_host("GET / HTTP/1.0");
  CHECK(parse_request_all_splits(v10) == get_head("GET", "/", v10, 0, 0));
  const std::string v11 = with_host("GET / HTTP/1.1");
  CHECK(parse_request_all_splits(v11) == get_head("GET", "/", v11, 1, kKeepAlive));
}

TEST_CASE("http: HTTP/1.2 and later minors are read as 1.1", "[http][request-line][version]") {
  // RFC 9110 §2.5: a higher minor version is handled as the highest one supported; http.h reads
  // them as 1.1 (Host required, persistent by default); version_minor is the x of HTTP/1.x.
  for (int minor : {2, 5, 9}) {
    const std::string in = with_host("GET / HTTP/1." + std::to_string(minor));
    INFO("minor " << minor);
    CHECK(parse_request_all_splits(in) == get_head("GET", "/", in, minor, kKeepAlive));
    CHECK(parse_request_all_splits("GET / HTTP/1." + std::to_string(minor) + "\r\n\r\n") ==
          error_head(400));  // no Host: as in 1.1
  }
}

TEST_CASE("http: other major versions are 505", "[http][request-line][version]") {
  for (const char* v : {"HTTP/0.9", "HTTP/2.0", "HTTP/3.0", "HTTP/9.9", "HTTP/0.0", "HTTP/2.1"}) {
    check_line_error(std::string("GET / ") + v, 505);
    CHECK(parse_request_all_splits(std::string("GET / ") + v + "\r\n") == error_head(505));
  }
}

TEST_CASE("http: malformed versions are 400", "[http][request-line][version]") {
  // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, "HTTP" case-sensitive.
  for (const char* v :
       {"http/1.1",  "Http/1.1",  "HTTP/1",    "HTTP/1.",  "HTTP/11",   "HTTP/1.1.1", "HTTP/1.10",
        "HTTP/01.1", "HTTP/10.1", "HTTP/1,1",  "HTTP/a.1", "HTTP/1.a",  "HTTP 1.1",   "HTTP /1.1",
        "HTTP/ 1.1", "HTTPS/1.1", "HTTP/1.1x", "HTP/1.1",  "HTTP/+1.1", "HTTP/1.-1"}) {
    check_line_error(std::string("GET / ") + v, 400);
  }
}

TEST_CASE("http: lines end in CRLF; a bare LF is refused by default",
          "[http][request-line][crlf]") {
  // RFC 9112 §2.2 lets a recipient accept a bare LF; http.h refuses it unless asked.
  CHECK(parse_request_all_splits("GET / HTTP/1.1\nHost: a\r\n\r\n") == error_head(400));
  CHECK(parse_request_all_splits("GET / HTTP/1.1\r\nHost: a\n\r\n") == error_head(400));
  CHECK(parse_request_all_splits("GET / HTTP/1.1\r\nHost: a\r\n\n") == error_head(400));
  CHECK(parse_request_all_splits("GET / HTTP/1.1\nHost: a\n\n") == error_head(400));
}

TEST_CASE("http: CHRONOS_HTTP_LENIENT_LF accepts bare LF line ends", "[http][request-line][crlf]") {
  const std::string a = "GET / HTTP/1.1\nHost: a\n\n";
  CHECK(parse_request_all_splits(a, lenient()) ==
        request_head("GET", "/", "a", 1, kKeepAlive, {{"Host", "a"}}, a.size()));
  const std::string b = "GET / HTTP/1.1\r\nHost: a\n\r\n";
  CHECK(parse_request_all_splits(b, lenient()) ==
        request_head("GET", "/", "a", 1, kKeepAlive, {{"Host", "a"}}, b.size()));
  const std::string c = "GET / HTTP/1.1\nHost: a\r\nX: y\n\r\n";
  CHECK(parse_request_all_splits(c, lenient()) ==
        request_head("GET", "/", "a", 1, kKeepAlive, {{"Host", "a"}, {"X", "y"}}, c.size()));
}

TEST_CASE("http: a bare CR is never a line end", "[http][request-line][crlf]") {
  // RFC 9112 §2.2: a bare CR outside content is invalid (reject or replace by SP); never a line
  // end, not even leniently.
  for (const Config& cfg : {Config{}, lenient()}) {
    CHECK(parse_request_all_splits("GET / HTTP/1.1\rHost: a\r\n\r\n", cfg) == error_head(400));
    CHECK(parse_request_all_splits("GET / HTTP/1.1\r\rHost: a\r\n\r\n", cfg) == error_head(400));
    CHECK(parse_request_all_splits("GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", cfg) == error_head(400));
    CHECK(parse_request_all_splits("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", cfg) == error_head(400));
    CHECK(parse_request_all_splits("GET / HTTP/1.1\r\nHost: a\r\n\rX", cfg) == error_head(400));
    CHECK(parse_request_all_splits("GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", cfg) == error_head(400));
    CHECK(parse_request_all_splits("GET / HTTP/1.1\r \r\nHost: a\r\n\r\n", cfg) == error_head(400));
  }
}

TEST_CASE("http: empty lines before a request line are skipped and counted",
          "[http][request-line]") {
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line.
  const std::string in = "\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
  CHECK(parse_request_all_splits(in) ==
        request_head("GET", "/", "a", 1, kKeepAlive, {{"Host", "a"}}, in.size()));
  // Bare LF empty lines only leniently.
  CHECK(parse_request_all_splits("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n") == error_head(400));
  const std::string lf = "\n\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
  CHECK(parse_request_all_splits(lf, lenient()) ==
        request_head("GET", "/", "a", 1, kKeepAlive, {{"Host", "a"}}, lf.size()));
  // A CR that does not start a CRLF, or whitespace, is no empty line.
  CHECK(parse_request_all_splits("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n") == error_head(400));
  CHECK(parse_request_all_splits(" \r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n") == error_head(400));
}

TEST_CASE("http: only empty lines is not yet a request", "[http][request-line]") {
  CHECK(parse_request_all_splits("") == Head{});
  CHECK(parse_request_all_splits("\r\n\r\n\r\n") == Head{});
  CHECK(parse_request_all_splits("\r") == Head{});
  // The peer closing there ends the connection cleanly (RFC 9112 §9.6: between messages).
  const StreamVerdict v = parse_request_stream_all_splits("\r\n\r\n", true);
  CHECK(v.result == kDone);
  CHECK(v.messages.empty());
}

TEST_CASE("http: incomplete heads answer AGAIN", "[http][request-line]") {
  for (const char* in : {"G", "GET", "GET ", "GET /", "GET / ", "GET / HTTP/1", "GET / HTTP/1.1",
                         "GET / HTTP/1.1\r", "GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: a",
                         "GET / HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r"}) {
    INFO("input \"" << escape(in) << "\"");
    CHECK(parse_request_all_splits(in) == Head{});
  }
}

TEST_CASE("http: the peer closing inside a head is an error", "[http][request-line]") {
  const StreamVerdict v = parse_request_stream_all_splits("GET / HTTP/1.1\r\nHost: a\r\n", true);
  CHECK(v.result == kError);
  CHECK(v.error_status == 400);
  CHECK(v.messages.empty());
  CHECK(v.consumed == 0);
}

TEST_CASE("http: a request line longer than the head limit", "[http][request-line][limits]") {
  // http.h: a head over max_head_bytes is 431. But RFC 9112 §3: "A server that receives a
  // request-target longer than any URI it wishes to parse MUST respond with a 414 (URI Too
  // Long)". Here the request line alone is over the limit, so the target is what is too long.
  const std::string in = with_host("GET /" + std::string(9000, 'a') + " HTTP/1.1");
  CHECK(parse_request_all_splits(in) == error_head(414));
}

TEST_CASE("http: a long target within the head limit", "[http][request-line][limits]") {
  const std::string target = "/" + std::string(8000, 'x');
  const std::string in = with_host("GET " + target + " HTTP/1.1");
  CHECK(parse_request_all_splits(in) == get_head("GET", target, in));
}

TEST_CASE("http: the head stays in error after ERROR", "[http][request-line]") {
  chronos_http_parser p;
  chronos_http_parser_init(&p, 0);
  chronos_http_message m;
  chronos_http_message_init(&m, nullptr, 0);
  const std::string bad = "GET  / HTTP/1.1\r\nHost: a\r\n\r\n";
  CHECK(chronos_http_parse_request(&p, bad.data(), bad.size(), &m) == kError);
  CHECK(p.error_status == 400);
  CHECK(p.error != nullptr);
  const std::string good = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  CHECK(chronos_http_parse_request(&p, good.data(), good.size(), &m) == kError);
  chronos_http_body body;
  CHECK(chronos_http_parse_body(&p, good.data(), good.size(), &body) == kError);
  CHECK(chronos_http_parser_finish(&p) == kError);
  CHECK(p.error_status == 400);
}
