// The http plugin's request parser (plugins/http/http_parser.hpp): heads whole, in pieces and
// pipelined; keep-alive rules; every malformation it must refuse; the 8 KiB head limit; bodies.
#include <catch2/catch.hpp>
#include <string>
#include <string_view>

#include "http_parser.hpp"

using chronos::http::BodyFraming;
using chronos::http::ChunkedBodySkipper;
using chronos::http::kMaxHeadBytes;
using chronos::http::ParseStatus;
using chronos::http::Request;
using chronos::http::RequestParser;

namespace {

ParseStatus parse(std::string_view data, Request& request) {
  RequestParser parser;
  return parser.parse(data, request);
}

ParseStatus parse(std::string_view data) {
  Request request;
  return parse(data, request);
}

// keep_alive of a complete request; fails the test if it is not complete.
bool keeps_alive(std::string_view data) {
  Request request;
  REQUIRE(parse(data, request) == ParseStatus::complete);
  return request.keep_alive;
}

// A GET whose head is exactly `size` bytes, padded with one long header.
std::string head_of_size(std::size_t size) {
  const std::string start = "GET / HTTP/1.1\r\nX-Pad: ";
  const std::string end = "\r\n\r\n";
  return start + std::string(size - start.size() - end.size(), 'a') + end;
}

}  // namespace

TEST_CASE("a complete GET gives its parts", "[http]") {
  const std::string data = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n";
  Request request;
  REQUIRE(parse(data, request) == ParseStatus::complete);
  CHECK(request.method == "GET");
  CHECK(request.target == "/index.html?q=1");
  CHECK(request.minor_version == 1);
  CHECK(request.keep_alive);
  CHECK(request.head_length == data.size());
  CHECK(request.body == BodyFraming::none);
}

TEST_CASE("a head that arrives byte by byte completes exactly at its last byte", "[http]") {
  const std::string data =
      "HEAD /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /next HTTP/1.1\r\n\r\n";
  const std::size_t first = data.find("GET");
  RequestParser parser;  // one parser throughout: it resumes where it stopped
  Request request;
  for (std::size_t n = 1; n < first; ++n) {
    INFO("bytes: " << n);
    REQUIRE(parser.parse(std::string_view(data).substr(0, n), request) == ParseStatus::need_more);
  }
  REQUIRE(parser.parse(std::string_view(data).substr(0, first), request) == ParseStatus::complete);
  CHECK(request.method == "HEAD");
  CHECK(request.head_length == first);
  CHECK_FALSE(request.keep_alive);
}

TEST_CASE("pipelined requests are parsed one after another", "[http]") {
  std::string data =
      "GET /1 HTTP/1.1\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.0\r\n\r\n";
  RequestParser parser;
  std::string_view rest = data;
  for (std::string_view target : {"/1", "/2", "/3"}) {
    Request request;
    REQUIRE(parser.parse(rest, request) == ParseStatus::complete);
    CHECK(request.target == target);
    rest.remove_prefix(request.head_length);
  }
  CHECK(rest.empty());
}

TEST_CASE("HTTP/1.1 keeps the connection unless Connection says close", "[http]") {
  CHECK(keeps_alive("GET / HTTP/1.1\r\n\r\n"));
  CHECK_FALSE(keeps_alive("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
  CHECK_FALSE(keeps_alive("GET / HTTP/1.1\r\nconnection: CLOSE\r\n\r\n"));
  CHECK_FALSE(keeps_alive("GET / HTTP/1.1\r\nConnection: Upgrade,  Close \r\n\r\n"));
  CHECK_FALSE(keeps_alive("GET / HTTP/1.1\r\nConnection: x\r\nConnection: close\r\n\r\n"));
  CHECK(keeps_alive("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n"));  // a token, not a prefix
  CHECK(keeps_alive("GET / HTTP/1.1\r\nX-Connection: close\r\n\r\n"));
  CHECK(keeps_alive("GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n"));
}

TEST_CASE("HTTP/1.0 closes unless it asks for keep-alive", "[http]") {
  CHECK_FALSE(keeps_alive("GET / HTTP/1.0\r\n\r\n"));
  CHECK(keeps_alive("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  CHECK(keeps_alive("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
  CHECK(keeps_alive("GET / HTTP/1.0\r\nConnection: foo , keep-alive\r\n\r\n"));
  CHECK_FALSE(keeps_alive("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"));
  CHECK_FALSE(keeps_alive("GET / HTTP/1.0\r\nConnection: keep-alives\r\n\r\n"));
}

TEST_CASE("a later HTTP/1.x is served as HTTP/1.1", "[http]") {
  Request request;
  REQUIRE(parse("GET / HTTP/1.2\r\n\r\n", request) == ParseStatus::complete);
  CHECK(request.minor_version == 2);
  CHECK(request.keep_alive);
}

TEST_CASE("bare LF line ends and empty lines before a request are accepted", "[http]") {
  Request request;
  REQUIRE(parse("GET / HTTP/1.1\nHost: x\n\n", request) == ParseStatus::complete);
  CHECK(request.head_length == 24);
  REQUIRE(parse("\r\n\nGET /x HTTP/1.1\r\n\r\n", request) == ParseStatus::complete);
  CHECK(request.target == "/x");
  CHECK(request.head_length == 22);
  CHECK(parse("\r\n\r\n") == ParseStatus::need_more);
}

TEST_CASE("malformed requests are bad requests", "[http]") {
  const char* bad[] = {
      "GET  / HTTP/1.1\r\n\r\n",               // two spaces
      "GET / HTTP/1.1 \r\n\r\n",               // trailing space
      "GET /HTTP/1.1\r\n\r\n",                 // no version
      "GET / HTTP/2.0\r\n\r\n",                // another major version
      "GET / HTTP/1.10\r\n\r\n",               // not one digit
      "GET / http/1.1\r\n\r\n",                // the name is case-sensitive
      "G(T / HTTP/1.1\r\n\r\n",                // not a token
      " GET / HTTP/1.1\r\n\r\n",               // empty method
      "GET /a\x7f HTTP/1.1\r\n\r\n",           // DEL in the target
      "GET /a\tb HTTP/1.1\r\n\r\n",            // tab in the target
      "GET / HTTP/1.1\r\nHost : x\r\n\r\n",    // space before the colon
      "GET / HTTP/1.1\r\nHost x\r\n\r\n",      // no colon
      "GET / HTTP/1.1\r\n: x\r\n\r\n",         // empty name
      "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",  // obsolete line folding
      "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",     // bare CR
      "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n",    // control character
      "GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: +1\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length:\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
      "GET / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
      "GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
      "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
  };
  for (const char* data : bad) {
    INFO(data);
    CHECK(parse(data) == ParseStatus::bad_request);
  }
  std::string nul = "GET / HTTP/1.1\r\nA: b?\r\n\r\n";
  nul[20] = '\0';
  CHECK(parse(nul) == ParseStatus::bad_request);
}

TEST_CASE("a bad request line is refused before the head is complete", "[http]") {
  CHECK(parse("HELLO\r\n") == ParseStatus::bad_request);
  CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\n") == ParseStatus::need_more);
  CHECK(parse("GET / HTTP/1.1") == ParseStatus::need_more);
}

TEST_CASE("a head over 8 KiB is refused with 431", "[http]") {
  const std::string largest = head_of_size(kMaxHeadBytes);
  Request request;
  REQUIRE(parse(largest, request) == ParseStatus::complete);
  CHECK(request.head_length == kMaxHeadBytes);

  CHECK(parse(head_of_size(kMaxHeadBytes + 1)) == ParseStatus::head_too_large);
  const std::string unfinished = largest.substr(0, largest.size() - 1);
  CHECK(parse(unfinished) == ParseStatus::need_more);
  CHECK(parse(unfinished + "xy") == ParseStatus::head_too_large);

  // Also when it grows in pieces, and whatever follows the limit.
  RequestParser parser;
  std::string data;
  ParseStatus status = ParseStatus::need_more;
  while (status == ParseStatus::need_more) {
    data += "X-Header: 0123456789\r\n";
    status = parser.parse("GET / HTTP/1.1\r\n" + data, request);
  }
  CHECK(status == ParseStatus::head_too_large);
}

TEST_CASE("Content-Length announces a body", "[http]") {
  Request request;
  REQUIRE(parse("POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\nhello world!", request) ==
          ParseStatus::complete);
  CHECK(request.body == BodyFraming::content_length);
  CHECK(request.content_length == 12);
  CHECK(request.head_length == 39);

  REQUIRE(parse("POST / HTTP/1.1\r\ncontent-length: 7\r\nContent-Length:7\r\n\r\n", request) ==
          ParseStatus::complete);
  CHECK(request.content_length == 7);

  REQUIRE(parse("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", request) == ParseStatus::complete);
  CHECK(request.body == BodyFraming::none);
}

TEST_CASE("Transfer-Encoding with chunked last announces a chunked body", "[http]") {
  Request request;
  REQUIRE(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n", request) ==
          ParseStatus::complete);
  CHECK(request.body == BodyFraming::chunked);
}

TEST_CASE("a chunked body is skipped to its exact end", "[http]") {
  const std::string body = "5\r\nhello\r\nA;name=\"v\"\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n";
  const std::string next = "GET / HTTP/1.1\r\n\r\n";

  ChunkedBodySkipper skipper;
  std::size_t used = 0;
  CHECK(skipper.feed(body + next, used) == ChunkedBodySkipper::Status::done);
  CHECK(used == body.size());

  skipper.reset();  // byte by byte
  for (std::size_t i = 0; i + 1 < body.size(); ++i) {
    REQUIRE(skipper.feed(body.substr(i, 1), used) == ChunkedBodySkipper::Status::need_more);
    REQUIRE(used == 1);
  }
  CHECK(skipper.feed(body.substr(body.size() - 1) + next, used) ==
        ChunkedBodySkipper::Status::done);
  CHECK(used == 1);

  skipper.reset();
  CHECK(skipper.feed("3\nabc\n0\n\n", used) == ChunkedBodySkipper::Status::done);  // bare LF
  CHECK(used == 9);
}

TEST_CASE("a malformed chunked body is refused", "[http]") {
  for (const char* bad : {"x\r\n", "\r\n", "5x\r\n", "2\r\nabc\r\n", "0\r\n\rx", "1\r\na\r\r",
                          "10000000000000000\r\n"}) {
    INFO(bad);
    ChunkedBodySkipper skipper;
    std::size_t used = 0;
    CHECK(skipper.feed(bad, used) == ChunkedBodySkipper::Status::bad);
  }
}
