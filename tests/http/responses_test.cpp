// chronos/http.h: responses (RFC 9112 §4, §6.3, §9.3; RFC 9110 §6.4.1, §9.3.6, §15): the status
// line, the responses without a body (HEAD, 1xx, 204, 304), 101 and CONNECT 2xx, bodies framed
// by length, chunked or the connection's close, and 502 for every malformed response. Every
// case is fed whole, split at every byte and byte by byte.
#include <catch2/catch.hpp>
#include <string>

#include "http/split_check.hpp"

using namespace chronos_http_test;
using namespace std::string_literals;

namespace {

Head resp(std::string_view in, int status, std::string_view reason, unsigned flags, int framing,
          std::uint64_t content_length = 0, Fields fields = {}, int minor = 1) {
  return response_head(status, reason, minor, flags, framing, content_length, std::move(fields),
                       in.size());
}

void check_error(std::string_view in, std::string_view method = "GET") {
  INFO("response: \"" << escape(in) << "\" to " << method);
  CHECK(parse_response_all_splits(in, method) == error_head(502));
}

// A response stream with one message: its head, body and how it ended.
StreamVerdict one(std::string_view bytes, std::string_view method = "GET", bool finish = false) {
  return parse_response_stream_all_splits(bytes, {std::string(method)}, finish);
}

}  // namespace

// --- the status line --------------------------------------------------------------------------

TEST_CASE("http: a 200 with Content-Length", "[http][response]") {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  const Head h = resp(head, 200, "OK", kKeepAlive, kLength, 5, {{"Content-Length", "5"}});
  CHECK(parse_response_all_splits(head) == h);
  const StreamVerdict v = one(head + "hello");
  StreamVerdict expected;
  expected.messages = {Message{h, "hello", {}, kDone, 0}};
  expected.result = kDone;
  expected.consumed = head.size() + 5;
  CHECK(v == expected);
}

TEST_CASE("http: reason phrases in status lines", "[http][response][status-line]") {
  // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ).
  for (const char* reason : {"Not Found", "Not  Found", "x\ty", "caf\xc3\xa9",
                             "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "OK ", " OK", "200 OK"}) {
    const std::string in = "HTTP/1.1 404 " + std::string(reason) + "\r\nContent-Length: 0\r\n\r\n";
    INFO("reason \"" << escape(reason) << "\"");
    CHECK(parse_response_all_splits(in) ==
          resp(in, 404, reason, kKeepAlive, kNone, 0, {{"Content-Length", "0"}}));
  }
}

TEST_CASE("http: a status line without reason phrase", "[http][response][status-line]") {
  // RFC 9112 §4: the SP before an empty reason is required, but http.h accepts its absence.
  const std::string bare = "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n";
  CHECK(parse_response_all_splits(bare) ==
        resp(bare, 200, "", kKeepAlive, kNone, 0, {{"Content-Length", "0"}}));
  const std::string sp = "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n";
  CHECK(parse_response_all_splits(sp) ==
        resp(sp, 200, "", kKeepAlive, kNone, 0, {{"Content-Length", "0"}}));
}

TEST_CASE("http: malformed status lines are 502", "[http][response][status-line]") {
  // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]; status-code
  // = 3DIGIT, 100..599 (RFC 9110 §15). A proxy answers 502 to an invalid response.
  for (const std::string& line :
       {"HTTP/1.1 20 OK"s,      "HTTP/1.1 2000 OK"s,  "HTTP/1.1 099 X"s,
        "HTTP/1.1 000 X"s,      "HTTP/1.1 600 X"s,    "HTTP/1.1 999 X"s,
        "HTTP/1.1 2x0 OK"s,     "HTTP/1.1  200 OK"s,  "HTTP/1.1\t200 OK"s,
        "HTTP/1.1 200\tOK"s,    "HTTP/1.1 -200 OK"s,  "HTTP/1.1 +20 OK"s,
        "HTTP/1.1 OK"s,         "HTTP/1.1"s,          "HTTP/1.1 "s,
        "http/1.1 200 OK"s,     "HTTP/1 200 OK"s,     "HTTP/1.10 200 OK"s,
        "HTTP/11 200 OK"s,      " HTTP/1.1 200 OK"s,  "HTTP/1.1 200 O\x01K"s,
        "HTTP/1.1 200 OK\x7f"s, "HTTP/1.1 200 O\0K"s, "HTTP/1.1 200 OK\x0b"s,
        "ICY 200 OK"s,          "HTTP/1.1 200OK"s,    "HTTP/1.1 ２00 OK"s}) {
    check_error(line + "\r\nContent-Length: 0\r\n\r\n");
  }
}

TEST_CASE("http: response versions", "[http][response][status-line]") {
  const std::string v10 = "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n";
  CHECK(parse_response_all_splits(v10) ==
        resp(v10, 200, "OK", 0, kLength, 1, {{"Content-Length", "1"}}, 0));
  const std::string v12 = "HTTP/1.2 200 OK\r\nContent-Length: 1\r\n\r\n";
  CHECK(parse_response_all_splits(v12) ==
        resp(v12, 200, "OK", kKeepAlive, kLength, 1, {{"Content-Length", "1"}}, 2));
  // Another major version: an HTTP/1.1 client cannot read it (a proxy answers 502).
  check_error("HTTP/2.0 200 OK\r\nContent-Length: 1\r\n\r\n");
  check_error("HTTP/0.9 200 OK\r\nContent-Length: 1\r\n\r\n");
  check_error("HTTP/3.0 200 OK\r\n");
}

TEST_CASE("http: line ends and field rules in responses give 502", "[http][response]") {
  check_error("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n");
  check_error("HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n");
  check_error("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n");
  check_error("HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n");
  check_error("HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n");               // RFC 9112 §5.1
  check_error("HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n");  // obs-fold
  check_error("HTTP/1.1 200 OK\r\n Content-Length: 0\r\n\r\n");
  check_error("HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 0\r\n\r\n"s);
  check_error("HTTP/1.1 200 OK\r\nX(: a\r\nContent-Length: 0\r\n\r\n");
  const std::string lf = "HTTP/1.1 204 No Content\nX: y\n\n";
  CHECK(parse_response_all_splits(lf, "GET", lenient()) ==
        resp(lf, 204, "No Content", kKeepAlive, kNone, 0, {{"X", "y"}}));
}

TEST_CASE("http: response heads are bounded", "[http][response][limits]") {
  // http.h: over max_head_bytes or max_fields a response is an error (502).
  std::string big =
      "HTTP/1.1 200 OK\r\nX: " + std::string(9000, 'x') + "\r\nContent-Length: 0\r\n\r\n";
  check_error(big);
  std::string many = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 101; ++i) {
    many += "F";  // (not "F" + ...: GCC 12 warns falsely on that, its bug 105329)
    many += std::to_string(i) + ": v\r\n";
  }
  check_error(many + "\r\n");
}

TEST_CASE("http: response fields have no request rules", "[http][response]") {
  // Host is a request field: in a response it is only a field. Expect does not apply either.
  const std::string in =
      "HTTP/1.1 200 OK\r\nHost: not a host\r\nHost: twice\r\nExpect: 100-continue\r\n"
      "Content-Length: 0\r\n\r\n";
  CHECK(parse_response_all_splits(in) == resp(in, 200, "OK", kKeepAlive, kNone, 0,
                                              {{"Host", "not a host"},
                                               {"Host", "twice"},
                                               {"Expect", "100-continue"},
                                               {"Content-Length", "0"}}));
}

// --- responses without a body -----------------------------------------------------------------

TEST_CASE("http: a response to HEAD has no body", "[http][response][no-body]") {
  // RFC 9112 §6.3 item 1: whatever its fields say; content_length still reports the field.
  const std::string cl = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
  const std::string next = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
  const StreamVerdict v = parse_response_stream_all_splits(cl + next + "ok", {"HEAD", "GET"});
  StreamVerdict expected;
  expected.messages = {
      Message{resp(cl, 200, "OK", kKeepAlive, kNone, 100, {{"Content-Length", "100"}}),
              "",
              {},
              kDone,
              0},
      Message{resp(next, 200, "OK", kKeepAlive, kLength, 2, {{"Content-Length", "2"}}),
              "ok",
              {},
              kDone,
              0}};
  expected.result = kDone;
  expected.consumed = cl.size() + next.size() + 2;
  CHECK(v == expected);
  const std::string te = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  CHECK(parse_response_all_splits(te, "HEAD") ==
        resp(te, 200, "OK", kKeepAlive, kNone, 0, {{"Transfer-Encoding", "chunked"}}));
  const std::string neither = "HTTP/1.1 404 Not Found\r\n\r\n";
  CHECK(parse_response_all_splits(neither, "HEAD") ==
        resp(neither, 404, "Not Found", kKeepAlive, kNone));
}

TEST_CASE("http: 204 and 304 have no body", "[http][response][no-body]") {
  const std::string no_content = "HTTP/1.1 204 No Content\r\n\r\n";
  CHECK(parse_response_all_splits(no_content) ==
        resp(no_content, 204, "No Content", kKeepAlive, kNone));
  const std::string not_modified = "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n";
  CHECK(parse_response_all_splits(not_modified) ==
        resp(not_modified, 304, "Not Modified", kKeepAlive, kNone, 10, {{"Content-Length", "10"}}));
  const std::string te = "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n";
  CHECK(parse_response_all_splits(te) ==
        resp(te, 304, "Not Modified", kKeepAlive, kNone, 0, {{"Transfer-Encoding", "chunked"}}));
  // What follows a 204 is the next response.
  const std::string next = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n";
  const StreamVerdict v = parse_response_stream_all_splits(no_content + next + "x", {"GET"});
  REQUIRE(v.messages.size() == 2);
  CHECK(v.messages[1].head ==
        resp(next, 200, "OK", kKeepAlive, kLength, 1, {{"Content-Length", "1"}}));
  CHECK(v.messages[1].body == "x");
  CHECK(v.result == kDone);
}

TEST_CASE("http: 1xx responses come before the final response", "[http][response][no-body]") {
  // RFC 9110 §15.2: a 1xx is complete at its head; the final response to the same request
  // follows on the connection.
  const std::string cont = "HTTP/1.1 100 Continue\r\n\r\n";
  const std::string hints = "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n";
  const std::string other = "HTTP/1.1 199 Whatever\r\nContent-Length: 5\r\n\r\n";
  const std::string final_head = "HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\n";
  const StreamVerdict v =
      parse_response_stream_all_splits(cont + hints + other + final_head + "abc", {"POST"});
  StreamVerdict expected;
  expected.messages = {
      Message{resp(cont, 100, "Continue", kKeepAlive, kNone), "", {}, kDone, 0},
      Message{resp(hints, 103, "Early Hints", kKeepAlive, kNone, 0,
                   {{"Link", "</s.css>; rel=preload"}}),
              "",
              {},
              kDone,
              0},
      Message{resp(other, 199, "Whatever", kKeepAlive, kNone, 5, {{"Content-Length", "5"}}),
              "",
              {},
              kDone,
              0},
      Message{resp(final_head, 201, "Created", kKeepAlive, kLength, 3, {{"Content-Length", "3"}}),
              "abc",
              {},
              kDone,
              0}};
  expected.result = kDone;
  expected.consumed = cont.size() + hints.size() + other.size() + final_head.size() + 3;
  CHECK(v == expected);
}

// --- 101 and CONNECT ------------------------------------------------------------------------

TEST_CASE("http: 101 Switching Protocols ends HTTP/1.1 on the connection",
          "[http][response][upgrade]") {
  // RFC 9110 §15.2.2: after the 101's head the connection speaks the new protocol.
  const std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
  const StreamVerdict v = one(head + "\x81\x05hello");
  StreamVerdict expected;
  expected.messages = {Message{resp(head, 101, "Switching Protocols", kUpgrade, kNone, 0,
                                    {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}}),
                               "",
                               {},
                               kDone,
                               0}};
  expected.result = kAgain;  // the helper stops at the tunnel, bytes left
  expected.consumed = head.size();
  expected.tunnel = true;
  CHECK(v == expected);
}

TEST_CASE("http: a 2xx to CONNECT is a tunnel", "[http][response][upgrade]") {
  // RFC 9110 §9.3.6 / RFC 9112 §6.3 item 2: a 2xx to CONNECT has no body; the connection
  // becomes a tunnel right after the head.
  for (const char* status : {"200 Connection Established", "200 OK", "204 No Content", "299 X"}) {
    const std::string head = "HTTP/1.1 " + std::string(status) + "\r\n\r\n";
    INFO("status " << status);
    const StreamVerdict v = one(head + "\x16\x03\x01", "CONNECT");
    StreamVerdict expected;
    expected.messages = {
        Message{resp(head, std::stoi(status), std::string(status).substr(4), kUpgrade, kNone),
                "",
                {},
                kDone,
                0}};
    expected.result = kAgain;
    expected.consumed = head.size();
    expected.tunnel = true;
    CHECK(v == expected);
  }
}

TEST_CASE("http: a client ignores Content-Length and Transfer-Encoding in a 2xx to CONNECT",
          "[http][response][upgrade]") {
  // RFC 9110 §9.3.6: "A client MUST ignore any Content-Length or Transfer-Encoding header fields
  // received in a successful response to CONNECT."
  // Not even reported: content_length stays 0.
  const std::string cl = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
  CHECK(parse_response_all_splits(cl, "CONNECT") ==
        resp(cl, 200, "OK", kUpgrade, kNone, 0, {{"Content-Length", "10"}}));
  const std::string te = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  CHECK(parse_response_all_splits(te, "CONNECT") ==
        resp(te, 200, "OK", kUpgrade, kNone, 0, {{"Transfer-Encoding", "chunked"}}));
  // Ignored means ignored: even when both are there, or the value would be invalid.
  const Head both = parse_response_all_splits(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n", "CONNECT");
  CHECK(both.result == kDone);
  CHECK(both.flags == kUpgrade);
  CHECK(both.framing == kNone);
  const Head bad =
      parse_response_all_splits("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "CONNECT");
  CHECK(bad.result == kDone);
  CHECK(bad.flags == kUpgrade);
  CHECK(bad.framing == kNone);
}

TEST_CASE("http: a non-2xx to CONNECT is an ordinary response", "[http][response][upgrade]") {
  const std::string head =
      "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\n";
  const StreamVerdict v = one(head + "no", "CONNECT");
  StreamVerdict expected;
  expected.messages = {Message{resp(head, 407, "Proxy Authentication Required", kKeepAlive, kLength,
                                    2, {{"Content-Length", "2"}}),
                               "no",
                               {},
                               kDone,
                               0}};
  expected.result = kDone;
  expected.consumed = head.size() + 2;
  CHECK(v == expected);
}

TEST_CASE("http: a 200 with Upgrade fields is no upgrade", "[http][response][upgrade]") {
  const std::string in =
      "HTTP/1.1 200 OK\r\nConnection: upgrade\r\nUpgrade: h2c\r\nContent-Length: 0\r\n\r\n";
  CHECK(parse_response_all_splits(in) ==
        resp(in, 200, "OK", kKeepAlive, kNone, 0,
             {{"Connection", "upgrade"}, {"Upgrade", "h2c"}, {"Content-Length", "0"}}));
}

// --- close-delimited and chunked bodies -----------------------------------------------------

TEST_CASE("http: a response without length is read until close", "[http][response][close]") {
  // RFC 9112 §6.3 item 8: otherwise the body is everything up to the close; the connection
  // cannot persist (§9.3).
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n";
  const Head h = resp(head, 200, "OK", 0, kUntilClose, 0, {{"Content-Type", "text/plain"}});
  CHECK(parse_response_all_splits(head) == h);
  const std::string body = "all of this\r\n\r\nHTTP/1.1 200 OK\r\n\r\nis body";
  const StreamVerdict closed = one(head + body, "GET", true);
  StreamVerdict expected;
  expected.messages = {Message{h, body, {}, kDone, 0}};
  expected.result = kDone;
  expected.consumed = head.size() + body.size();
  CHECK(closed == expected);
  // Before the close it is still going.
  const StreamVerdict open = one(head + body);
  expected.messages[0].body_result = kAgain;
  expected.result = kAgain;
  CHECK(open == expected);
  // Also for HTTP/1.0, and with keep-alive asked for.
  const std::string v10 = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n";
  CHECK(parse_response_all_splits(v10) ==
        resp(v10, 200, "OK", 0, kUntilClose, 0, {{"Connection", "keep-alive"}}, 0));
}

TEST_CASE("http: a chunked response", "[http][response][chunked]") {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string body = "3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\nExpires: never\r\n\r\n";
  const Head h = resp(head, 200, "OK", kKeepAlive, kChunked, 0, {{"Transfer-Encoding", "chunked"}});
  const std::string next = "HTTP/1.1 204 No Content\r\n\r\n";
  const StreamVerdict v = parse_response_stream_all_splits(head + body + next, {"GET"});
  StreamVerdict expected;
  expected.messages = {Message{h, "abcdefg", {{"Expires", "never"}}, kDone, 0},
                       Message{resp(next, 204, "No Content", kKeepAlive, kNone), "", {}, kDone, 0}};
  expected.result = kDone;
  expected.consumed = head.size() + body.size() + next.size();
  CHECK(v == expected);
}

TEST_CASE("http: malformed chunked response bodies are 502", "[http][response][chunked]") {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const char* body : {"x\r\n", "5\r\nhelloX", "5 \r\nhello\r\n", "8000000000000000\r\n",
                           "0\r\nX : y\r\n\r\n", "5\nhello\r\n0\r\n\r\n"}) {
    INFO("body \"" << escape(body) << "\"");
    const StreamVerdict v = one(head + body);
    REQUIRE(v.messages.size() == 1);
    CHECK(v.messages[0].body_result == kError);
    CHECK(v.result == kError);
    CHECK(v.error_status == 502);
  }
}

TEST_CASE("http: codings before chunked in a response", "[http][response][chunked]") {
  // A client decodes what it can; framing is chunked, and CODED says more codings were applied.
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
  const StreamVerdict v = one(head + "2\r\n\x1f\x8b\r\n0\r\n\r\n");
  StreamVerdict expected;
  expected.messages = {Message{resp(head, 200, "OK", kKeepAlive | kCoded, kChunked, 0,
                                    {{"Transfer-Encoding", "gzip, chunked"}}),
                               "\x1f\x8b",
                               {},
                               kDone,
                               0}};
  expected.result = kDone;
  expected.consumed = head.size() + 12;
  CHECK(v == expected);
}

TEST_CASE("http: Transfer-Encoding without a final chunked: read until close",
          "[http][response][chunked]") {
  // RFC 9112 §6.3 item 4: in a response, chunked not final means the body ends at the close.
  for (const char* te : {"gzip", "chunked, gzip", "identity"}) {
    const std::string head =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: " + std::string(te) + "\r\n\r\n";
    INFO("Transfer-Encoding: " << te);
    const StreamVerdict v = one(head + "0\r\n\r\nrest", "GET", true);
    StreamVerdict expected;
    expected.messages = {
        Message{resp(head, 200, "OK", kCoded, kUntilClose, 0, {{"Transfer-Encoding", te}}),
                "0\r\n\r\nrest",
                {},
                kDone,
                0}};
    expected.result = kDone;
    expected.consumed = head.size() + 9;
    CHECK(v == expected);
  }
}

TEST_CASE("http: malformed Transfer-Encoding in a response is 502", "[http][response][chunked]") {
  check_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n");
  check_error(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n");
  check_error("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n");
  check_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip,,chunked\r\n\r\n");
  check_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;a=b\r\n\r\n");
  check_error(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: \x0b"
      "chunked\r\n\r\n");
}

TEST_CASE("http: Transfer-Encoding with Content-Length in a response is 502", "[http][response]") {
  // RFC 9112 §6.3 item 3 (response splitting); http.h: 502.
  check_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n");
  check_error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
}

TEST_CASE("http: Transfer-Encoding in an HTTP/1.0 response is 502", "[http][response]") {
  // RFC 9112 §6.1: MUST treat the message as if the framing is faulty.
  check_error("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
}

TEST_CASE("http: invalid or differing Content-Length in a response is 502", "[http][response]") {
  // RFC 9112 §6.3 item 5: a proxy MUST discard the response and answer 502.
  for (const char* v : {"+5", "0x5", "5, 5", "-1", "", "9223372036854775808", "5 5"})
    check_error("HTTP/1.1 200 OK\r\nContent-Length: " + std::string(v) + "\r\n\r\n");
  check_error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
  const std::string same = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\n";
  CHECK(parse_response_all_splits(same) ==
        resp(same, 200, "OK", kKeepAlive, kLength, 3,
             {{"Content-Length", "3"}, {"content-length", "3"}}));
}

TEST_CASE("http: a response body cut short is 502", "[http][response]") {
  const StreamVerdict v = one("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", "GET", true);
  REQUIRE(v.messages.size() == 1);
  CHECK(v.messages[0].body == "hel");
  CHECK(v.messages[0].body_result == kError);
  CHECK(v.result == kError);
  CHECK(v.error_status == 502);
  const StreamVerdict head = one("HTTP/1.1 200 OK\r\nContent-Len", "GET", true);
  CHECK(head.result == kError);
  CHECK(head.error_status == 502);
}

// --- keep-alive -------------------------------------------------------------------------------

TEST_CASE("http: response keep-alive rules", "[http][response][connection]") {
  // RFC 9112 §9.3: HTTP/1.1 persists unless close; HTTP/1.0 only with keep-alive.
  const std::string close = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
  CHECK(parse_response_all_splits(close) ==
        resp(close, 200, "OK", 0, kNone, 0, {{"Connection", "close"}, {"Content-Length", "0"}}));
  const std::string list =
      "HTTP/1.1 200 OK\r\nConnection: foo, , Close\r\nContent-Length: 0\r\n\r\n";
  CHECK(parse_response_all_splits(list) ==
        resp(list, 200, "OK", 0, kNone, 0,
             {{"Connection", "foo, , Close"}, {"Content-Length", "0"}}));
  const std::string v10 = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
  CHECK(parse_response_all_splits(v10) ==
        resp(v10, 200, "OK", 0, kNone, 0, {{"Content-Length", "0"}}, 0));
  const std::string v10ka =
      "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n";
  CHECK(parse_response_all_splits(v10ka) ==
        resp(v10ka, 200, "OK", kKeepAlive, kNone, 0,
             {{"Connection", "Keep-Alive"}, {"Content-Length", "0"}}, 0));
  const std::string chunked =
      "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n";
  CHECK(parse_response_all_splits(chunked) == resp(chunked, 500, "Internal Server Error",
                                                   kKeepAlive, kChunked, 0,
                                                   {{"Transfer-Encoding", "chunked"}}));
}

TEST_CASE("http: the method decides only for HEAD and CONNECT", "[http][response]") {
  // Methods are case-sensitive: "head" is not HEAD.
  const std::string in = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n";
  for (const char* method : {"GET", "POST", "head", "connect", "OPTIONS", "DELETE"}) {
    INFO("method " << method);
    CHECK(parse_response_all_splits(in, method) ==
          resp(in, 200, "OK", kKeepAlive, kLength, 4, {{"Content-Length", "4"}}));
  }
}

TEST_CASE("http: responses are not requests", "[http][response]") {
  // A response parser refuses a request line; a request parser refuses a status line.
  check_error("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(parse_request_all_splits("HTTP/1.1 200 OK\r\n\r\n") == error_head(400));
}
