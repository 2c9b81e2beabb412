// chronos/http.h: how a request's body is framed and what its head says about the connection
// (RFC 9112 §6, §9.3; RFC 9110 §7.2, §7.6.1, §7.8, §8.6, §10.1.1), and the request smuggling
// vectors of the published research (CL.TE, TE.CL, TE.TE obfuscations). Every case is fed
// whole, split at every byte and byte by byte.
#include <catch2/catch.hpp>
#include <string>

#include "http/split_check.hpp"

using namespace chronos_http_test;
using namespace std::string_literals;

namespace {

// "POST / HTTP/1.x" with Host: h, then `more` field lines, then the blank line.
std::string post(std::string_view more, std::string_view version = "HTTP/1.1") {
  return "POST / " + std::string(version) + "\r\nHost: h\r\n" + std::string(more) + "\r\n";
}

Head post_head(std::string_view in, Fields more, unsigned flags = kKeepAlive, int framing = kNone,
               std::uint64_t content_length = 0, int minor = 1) {
  Fields all{{"Host", "h"}};
  all.insert(all.end(), more.begin(), more.end());
  Head h = request_head("POST", "/", "h", minor, flags, all, in.size());
  h.framing = framing;
  h.content_length = content_length;
  return h;
}

void check_error(std::string_view in, int status) {
  INFO("request: \"" << escape(in) << "\"");
  CHECK(parse_request_all_splits(in) == error_head(status));
}

// The request with the Transfer-Encoding value `te` (and a valid chunked body after the head).
std::string te(std::string_view value) {
  return post("Transfer-Encoding: " + std::string(value) + "\r\n");
}

}  // namespace

// --- Content-Length -------------------------------------------------------------------------

TEST_CASE("http: no Content-Length nor Transfer-Encoding: no body", "[http][framing]") {
  // RFC 9112 §6.3 item 7: a request without either has a body of length zero.
  const std::string in = post("");
  CHECK(parse_request_all_splits(in) == post_head(in, {}));
  const std::string v10 = post("", "HTTP/1.0");
  CHECK(parse_request_all_splits(v10) == post_head(v10, {}, 0, kNone, 0, 0));
}

TEST_CASE("http: Content-Length frames the body", "[http][framing][content-length]") {
  const std::string in = post("Content-Length: 5\r\n");
  CHECK(parse_request_all_splits(in) ==
        post_head(in, {{"Content-Length", "5"}}, kKeepAlive, kLength, 5));
  const StreamVerdict v = parse_request_stream_all_splits(in + "hello");
  REQUIRE(v.messages.size() == 1);
  CHECK(v.messages[0].head == post_head(in, {{"Content-Length", "5"}}, kKeepAlive, kLength, 5));
  CHECK(v.messages[0].body == "hello");
  CHECK(v.messages[0].body_result == kDone);
  CHECK(v.result == kDone);
  CHECK(v.consumed == in.size() + 5);
}

TEST_CASE("http: Content-Length: 0 is no body", "[http][framing][content-length]") {
  // http.h: BODY_LENGTH is never 0 (that is BODY_NONE), content_length still says 0.
  const std::string in = post("Content-Length: 0\r\n");
  CHECK(parse_request_all_splits(in) == post_head(in, {{"Content-Length", "0"}}));
  const std::string zeros = post("Content-Length: 000\r\n");
  CHECK(parse_request_all_splits(zeros) == post_head(zeros, {{"Content-Length", "000"}}));
}

TEST_CASE("http: Content-Length is 1*DIGIT; leading zeros and OWS are fine",
          "[http][framing][content-length]") {
  const std::string zeros = post("Content-Length: 0005\r\n");
  CHECK(parse_request_all_splits(zeros) ==
        post_head(zeros, {{"Content-Length", "0005"}}, kKeepAlive, kLength, 5));
  const std::string ows = post("Content-Length: \t 12 \t\r\n");
  CHECK(parse_request_all_splits(ows) ==
        post_head(ows, {{"Content-Length", "12"}}, kKeepAlive, kLength, 12));
  const std::string lower = post("content-length: 3\r\n");
  CHECK(parse_request_all_splits(lower) ==
        post_head(lower, {{"content-length", "3"}}, kKeepAlive, kLength, 3));
}

TEST_CASE("http: invalid Content-Length values are 400", "[http][framing][content-length]") {
  // RFC 9112 §6.3 item 5: an invalid Content-Length without Transfer-Encoding is an
  // unrecoverable framing error; a server MUST answer 400 and close. http.h: digits only (so
  // "5, 5", which RFC 9110 §8.6 lets a recipient reject, is 400 too).
  for (const char* value : {"+5",    "-5",  "0x5",          "0X5", "5, 5", "5,5",   "5,", ",5",
                            "5 5",   "5.0", "1e3",          "5a",  "a5",   "five",  "",   " ",
                            "\"5\"", "5;",  "\xef\xbc\x95", "-0",  "+0",   "5\x0b", "0x"}) {
    INFO("Content-Length: \"" << escape(value) << "\"");
    check_error(post("Content-Length: " + std::string(value) + "\r\n"), 400);
  }
}

TEST_CASE("http: Content-Length up to 2^63-1; more is 400", "[http][framing][content-length]") {
  const std::string max = post("Content-Length: 9223372036854775807\r\n");
  CHECK(parse_request_all_splits(max) == post_head(max, {{"Content-Length", "9223372036854775807"}},
                                                   kKeepAlive, kLength, 9223372036854775807ull));
  const std::string zeros = post("Content-Length: 00000000000000000000009223372036854775807\r\n");
  CHECK(parse_request_all_splits(zeros) ==
        post_head(zeros, {{"Content-Length", "00000000000000000000009223372036854775807"}},
                  kKeepAlive, kLength, 9223372036854775807ull));
  check_error(post("Content-Length: 9223372036854775808\r\n"), 400);
  check_error(post("Content-Length: 18446744073709551615\r\n"), 400);
  check_error(post("Content-Length: 18446744073709551616\r\n"), 400);  // 2^64: wraps to 0
  check_error(post("Content-Length: 18446744073709551621\r\n"), 400);  // 2^64+5: wraps to 5
  check_error(post("Content-Length: " + std::string(200, '9') + "\r\n"), 400);
}

TEST_CASE("http: repeated Content-Length fields must agree", "[http][framing][content-length]") {
  const std::string same = post("Content-Length: 5\r\nContent-Length: 5\r\n");
  CHECK(
      parse_request_all_splits(same) ==
      post_head(same, {{"Content-Length", "5"}, {"Content-Length", "5"}}, kKeepAlive, kLength, 5));
  check_error(post("Content-Length: 5\r\nContent-Length: 6\r\n"), 400);
  check_error(post("Content-Length: 6\r\nContent-Length: 5\r\n"), 400);
  check_error(post("Content-Length: 0\r\nContent-Length: 5\r\n"), 400);
  check_error(post("Content-Length: 5\r\nX: y\r\ncontent-length: 50\r\n"), 400);
  check_error(post("Content-Length: 5\r\nContent-Length: x\r\n"), 400);
}

TEST_CASE("http: a body shorter than Content-Length", "[http][framing][content-length]") {
  const std::string head = post("Content-Length: 10\r\n");
  const StreamVerdict waiting = parse_request_stream_all_splits(head + "abc");
  CHECK(waiting.result == kAgain);
  REQUIRE(waiting.messages.size() == 1);
  CHECK(waiting.messages[0].body == "abc");
  CHECK(waiting.messages[0].body_result == kAgain);
  CHECK(waiting.consumed == head.size() + 3);
  // The peer closing there cuts the message short (RFC 9112 §8): an error.
  const StreamVerdict closed = parse_request_stream_all_splits(head + "abc", true);
  CHECK(closed.result == kError);
  CHECK(closed.error_status == 400);
  REQUIRE(closed.messages.size() == 1);
  CHECK(closed.messages[0].body == "abc");
  CHECK(closed.messages[0].body_result == kError);
}

TEST_CASE("http: Content-Length on any method", "[http][framing][content-length]") {
  const std::string in = "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n";
  Head h = request_head("GET", "/", "h", 1, kKeepAlive, {{"Host", "h"}, {"Content-Length", "2"}},
                        in.size());
  h.framing = kLength;
  h.content_length = 2;
  CHECK(parse_request_all_splits(in) == h);
}

// --- Transfer-Encoding ------------------------------------------------------------------------

TEST_CASE("http: Transfer-Encoding: chunked frames the body", "[http][framing][te]") {
  const std::string in = te("chunked");
  CHECK(parse_request_all_splits(in) ==
        post_head(in, {{"Transfer-Encoding", "chunked"}}, kKeepAlive, kChunked));
}

TEST_CASE("http: coding names are case-insensitive", "[http][framing][te]") {
  // RFC 9112 §7: "All transfer-coding names are case-insensitive".
  for (const char* v : {"Chunked", "CHUNKED", "cHuNkEd"}) {
    const std::string in = te(v);
    INFO("Transfer-Encoding: " << v);
    CHECK(parse_request_all_splits(in) ==
          post_head(in, {{"Transfer-Encoding", v}}, kKeepAlive, kChunked));
  }
  const std::string name = post("transfer-encoding: chunked\r\n");
  CHECK(parse_request_all_splits(name) ==
        post_head(name, {{"transfer-encoding", "chunked"}}, kKeepAlive, kChunked));
  const std::string upper = post("TRANSFER-ENCODING: chunked\r\n");
  CHECK(parse_request_all_splits(upper) ==
        post_head(upper, {{"TRANSFER-ENCODING", "chunked"}}, kKeepAlive, kChunked));
}

TEST_CASE("http: OWS around the Transfer-Encoding value is not part of it", "[http][framing][te]") {
  // " chunked", "\tchunked", "chunked \t": OWS before and after a field value (RFC 9112 §5.1).
  for (const char* v : {" chunked", "\tchunked", "chunked ", "chunked\t", " \t chunked \t "}) {
    const std::string in = post("Transfer-Encoding:" + std::string(v) + "\r\n");
    INFO("Transfer-Encoding:\"" << escape(v) << "\"");
    CHECK(parse_request_all_splits(in) ==
          post_head(in, {{"Transfer-Encoding", "chunked"}}, kKeepAlive, kChunked));
  }
  const std::string none = post("Transfer-Encoding:chunked\r\n");
  CHECK(parse_request_all_splits(none) ==
        post_head(none, {{"Transfer-Encoding", "chunked"}}, kKeepAlive, kChunked));
}

TEST_CASE("http: TE.TE: codings that are not chunked, or chunked not last, are 400",
          "[http][framing][te][smuggling]") {
  // RFC 9112 §6.3 item 4: in a request, chunked not final means the length cannot be
  // determined: the server MUST answer 400 and close.
  for (const char* v :
       {"xchunked", "chunkedx", "chunke", "chunked-false", "chunk", "x chunked", "identity", "gzip",
        "cow", "chunked, identity", "chunked, gzip", "gzip, chunked, identity", "chunked;",
        "\"chunked\"", "ch unked", "chunked\\", "chunked/1.1", "chunked, \"x\""}) {
    INFO("Transfer-Encoding: \"" << escape(v) << "\"");
    check_error(te(v), 400);
  }
}

TEST_CASE("http: codings before a final chunked are 501 in a request", "[http][framing][te]") {
  // RFC 9112 §6.1: a server that receives a transfer coding it does not understand SHOULD
  // answer 501. http.h: other codings before chunked in a request are 501.
  for (const char* v : {"gzip, chunked", "identity, chunked", "x-custom, chunked", "gzip,chunked",
                        "deflate , chunked", "gzip;q=0.5, chunked", "gzip; level=\"9 x\", chunked",
                        "compress, gzip, chunked"}) {
    INFO("Transfer-Encoding: " << v);
    check_error(te(v), 501);
  }
  // Also spread over two field lines (RFC 9110 §5.3: one list).
  check_error(post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), 501);
}

TEST_CASE("http: chunked twice is 400", "[http][framing][te][smuggling]") {
  // RFC 9112 §6.1: a sender MUST NOT apply chunked more than once.
  check_error(te("chunked, chunked"), 400);
  check_error(te("chunked,chunked"), 400);
  check_error(post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400);
  check_error(post("Transfer-Encoding: chunked\r\ntransfer-encoding: Chunked\r\n"), 400);
  check_error(te("gzip, chunked, chunked"), 400);
}

TEST_CASE("http: duplicate Transfer-Encoding lines form one list",
          "[http][framing][te][smuggling]") {
  // TE.TE: the second line hides the first one from a parser that reads only one of them.
  check_error(post("Transfer-Encoding: chunked\r\nTransfer-Encoding: cow\r\n"), 400);
  check_error(post("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n"), 400);
  check_error(post("Transfer-Encoding: cow\r\nTransfer-Encoding: chunked, chunked\r\n"), 400);
  check_error(post("Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n"), 400);
  check_error(post("Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n"), 400);
}

TEST_CASE("http: parameters on chunked are 400", "[http][framing][te]") {
  // RFC 9112 §7: chunked defines no parameters; their presence SHOULD be an error.
  check_error(te("chunked;q=1"), 400);
  check_error(te("chunked; a=b"), 400);
  check_error(te("gzip, chunked;x=\"y\""), 400);
}

TEST_CASE("http: malformed transfer-coding syntax is 400", "[http][framing][te]") {
  // transfer-coding = token *( OWS ";" OWS transfer-parameter ); parameter = token BWS "=" BWS
  // ( token / quoted-string ).
  for (const char* v : {"gzip;, chunked", "gzip;q, chunked", "gzip;q=, chunked", "gzip;=1, chunked",
                        "gzip;q=\"x, chunked", "gzip;q=a b, chunked", "gzip q=1, chunked",
                        "gzip;q=\"\x01\", chunked", "gzip/1, chunked", "@, chunked"}) {
    INFO("Transfer-Encoding: \"" << escape(v) << "\"");
    check_error(te(v), 400);
  }
}

TEST_CASE("http: empty Transfer-Encoding elements are 400", "[http][framing][te][smuggling]") {
  // http.h: an empty element anywhere is 400 (present but empty, only commas, leading or
  // trailing commas).
  for (const char* v : {"", " ", "\t", ",", ", ,", ",,", ", chunked", "chunked,", "chunked, ",
                        "gzip,,chunked", "gzip, , chunked", ",chunked", "chunked ,"}) {
    INFO("Transfer-Encoding: \"" << escape(v) << "\"");
    check_error(te(v), 400);
  }
}

TEST_CASE("http: Transfer-Encoding with controls or bad line ends is 400",
          "[http][framing][te][smuggling]") {
  // Vertical tab, form feed, NUL, a bare CR or LF around chunked: controls in a field value
  // (RFC 9110 §5.5) or a bare line end (RFC 9112 §2.2).
  for (const std::string& v : {std::string("\x0b"
                                           "chunked"),
                               std::string("chunked\x0b"),
                               std::string("\x0c"
                                           "chunked"),
                               std::string("chunked\x0c"), "chunked\x00"s,
                               "\x00"
                               "chunked"s,
                               std::string("chunked\x1b"),
                               std::string("\x7f"
                                           "chunked"),
                               std::string("chun\x0bked")}) {
    INFO("Transfer-Encoding: \"" << escape(v) << "\"");
    check_error(te(v), 400);
  }
  check_error(post("Transfer-Encoding: chunked\r\r\n"), 400);
  check_error(post("Transfer-Encoding: chunked\n"), 400);
  check_error(post("X: y\nTransfer-Encoding: chunked\r\n"), 400);
  check_error(post("Transfer-Encoding\n: chunked\r\n"), 400);
  check_error(post("Transfer-Encoding\r\n: chunked\r\n"), 400);
  check_error(post("Transfer-Encoding:\r\n chunked\r\n"), 400);  // obs-fold
  check_error(post("Transfer-Encoding: x\r\n chunked\r\n"), 400);
  check_error(post("Transfer-Encoding: chunked\r\n \r\n"), 400);
}

TEST_CASE("http: Transfer-Encoding with a space or tab before the colon is 400",
          "[http][framing][te][smuggling]") {
  // RFC 9112 §5.1: MUST be rejected with 400 (not read as an unknown field, nor as TE).
  check_error(post("Transfer-Encoding : chunked\r\n"), 400);
  check_error(post("Transfer-Encoding\t: chunked\r\n"), 400);
  check_error(post("Transfer-Encoding  : chunked\r\nContent-Length: 5\r\n"), 400);
  check_error(post(" Transfer-Encoding: chunked\r\n"), 400);  // obs-fold of the Host line
  check_error(post("\tTransfer-Encoding: chunked\r\n"), 400);
}

TEST_CASE("http: look-alike field names are other fields", "[http][framing][te][smuggling]") {
  // A name that is not Transfer-Encoding does not frame anything: the body is empty and the
  // bytes after the head are the next request (here not a valid one).
  const std::string head = post("Transfer_Encoding: chunked\r\n");
  CHECK(parse_request_all_splits(head) == post_head(head, {{"Transfer_Encoding", "chunked"}}));
  const StreamVerdict v = parse_request_stream_all_splits(head + "0\r\n\r\n");
  REQUIRE(v.messages.size() == 2);
  CHECK(v.messages[0].head == post_head(head, {{"Transfer_Encoding", "chunked"}}));
  CHECK(v.messages[0].body_result == kDone);
  CHECK(v.messages[1].head == error_head(400));
  CHECK(v.result == kError);
  CHECK(v.error_status == 400);
  for (const char* name : {"Transfer-Encodings", "XTransfer-Encoding", "Transfer-Encod",
                           "Transfer-Encoding-X", "Content-Lengths"}) {
    const std::string in = post(std::string(name) + ": chunked\r\n");
    INFO("name " << name);
    CHECK(parse_request_all_splits(in) == post_head(in, {{name, "chunked"}}));
  }
}

TEST_CASE("http: Transfer-Encoding in an HTTP/1.0 request is 400", "[http][framing][te]") {
  // RFC 9112 §6.1: a Transfer-Encoding in an HTTP/1.0 message MUST be treated as faulty framing.
  check_error(post("Transfer-Encoding: chunked\r\n", "HTTP/1.0"), 400);
  check_error(post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "HTTP/1.0"), 400);
  check_error(post("Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n", "HTTP/1.0"), 400);
}

// --- CL.TE and TE.CL --------------------------------------------------------------------------

TEST_CASE("http: CL.TE and TE.CL: Content-Length with Transfer-Encoding is 400",
          "[http][framing][smuggling]") {
  // RFC 9112 §6.3 item 3: such a message ought to be handled as an error; http.h: 400. A
  // recipient that framed it by Content-Length and one by chunked would disagree on where the
  // next request starts.
  const std::string cl_te =
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\nSMUGGLED";
  CHECK(parse_request_stream_all_splits(cl_te).messages ==
        std::vector<Message>{Message{error_head(400), "", {}, kAgain, 0}});
  const std::string te_cl =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
      "8\r\nSMUGGLED\r\n0\r\n\r\n";
  const StreamVerdict v = parse_request_stream_all_splits(te_cl);
  CHECK(v.result == kError);
  CHECK(v.error_status == 400);
  CHECK(v.messages.size() == 1);
  check_error(post("Content-Length: 0\r\nTransfer-Encoding: chunked\r\n"), 400);
  check_error(post("Transfer-Encoding: gzip, chunked\r\nContent-Length: 5\r\n"), 400);
  check_error(post("Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n"), 400);
  check_error(post("Content-Length: 5\r\nTransfer-Encoding: Chunked\r\nContent-Length: 5\r\n"),
              400);
}

TEST_CASE("http: a chunked request followed by the next one", "[http][framing][te]") {
  const std::string first = te("chunked");
  const std::string second = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
  const StreamVerdict v =
      parse_request_stream_all_splits(first + "5\r\nhello\r\n0\r\n\r\n" + second);
  REQUIRE(v.messages.size() == 2);
  CHECK(v.messages[0].head ==
        post_head(first, {{"Transfer-Encoding", "chunked"}}, kKeepAlive, kChunked));
  CHECK(v.messages[0].body == "hello");
  CHECK(v.messages[0].body_result == kDone);
  CHECK(v.messages[1].head ==
        request_head("GET", "/next", "h", 1, kKeepAlive, {{"Host", "h"}}, second.size()));
  CHECK(v.messages[1].body_result == kDone);
  CHECK(v.result == kDone);
  CHECK(v.consumed == first.size() + 15 + second.size());
}

TEST_CASE("http: pipelined requests with Content-Length bodies", "[http][framing]") {
  const std::string a = post("Content-Length: 3\r\n");
  const std::string b = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string c = post("Content-Length: 4\r\nConnection: close\r\n");
  const StreamVerdict v = parse_request_stream_all_splits(a + "abc" + b + c + "wxyz");
  REQUIRE(v.messages.size() == 3);
  CHECK(v.messages[0].head == post_head(a, {{"Content-Length", "3"}}, kKeepAlive, kLength, 3));
  CHECK(v.messages[0].body == "abc");
  CHECK(v.messages[1].head ==
        request_head("GET", "/b", "h", 1, kKeepAlive, {{"Host", "h"}}, b.size()));
  CHECK(v.messages[1].body.empty());
  CHECK(v.messages[2].head ==
        post_head(c, {{"Content-Length", "4"}, {"Connection", "close"}}, 0, kLength, 4));
  CHECK(v.messages[2].body == "wxyz");
  CHECK(v.messages[2].body_result == kDone);
  CHECK(v.result == kDone);
  CHECK(v.consumed == a.size() + 3 + b.size() + c.size() + 4);
}

TEST_CASE("http: a Content-Length body is not parsed as a request", "[http][framing][smuggling]") {
  // The body bytes look like a request: they are body, nothing else.
  const std::string inner = "GET /admin HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string head = post("Content-Length: " + std::to_string(inner.size()) + "\r\n");
  const StreamVerdict v = parse_request_stream_all_splits(head + inner);
  REQUIRE(v.messages.size() == 1);
  CHECK(v.messages[0].body == inner);
  CHECK(v.messages[0].body_result == kDone);
  CHECK(v.result == kDone);
}

// --- Host -------------------------------------------------------------------------------------

TEST_CASE("http: an HTTP/1.1 request without Host is 400", "[http][framing][host]") {
  // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host.
  check_error("GET / HTTP/1.1\r\n\r\n", 400);
  check_error("GET / HTTP/1.1\r\nX-Host: h\r\n\r\n", 400);
  check_error("GET http://h/ HTTP/1.1\r\n\r\n", 400);  // even with absolute-form
  check_error("CONNECT h:443 HTTP/1.1\r\n\r\n", 400);
  check_error("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);
}

TEST_CASE("http: more than one Host is 400, in HTTP/1.0 too", "[http][framing][host]") {
  // RFC 9112 §3.2: MUST answer 400 to any request with more than one Host field line.
  check_error("GET / HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n", 400);
  check_error("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400);
  check_error("GET / HTTP/1.1\r\nHost: a\r\nX: y\r\nHOST: a\r\n\r\n", 400);
  check_error("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400);
  check_error("GET / HTTP/1.1\r\nHost: a\r\nHost:\r\n\r\n", 400);
}

TEST_CASE("http: an invalid Host value is 400", "[http][framing][host]") {
  // RFC 9112 §3.2: MUST answer 400 to a Host field with an invalid value.
  // Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2).
  for (const char* value :
       {"exa mple.com", "a b",  "h/path",       "user@h", "user:pw@h", "h:80:81",
        "h:8o",         "h:-1", "[::1",         "::1",    "[::1]x",    "[::1]:8o",
        "h?q",          "h#f",  "a.com, b.com", "%zz",    "%4",        "h\"",
        "<h>",          "h\\x", "[]",           "h\t:80", "h:\x01",    "\xc3\xa9.com"}) {
    INFO("Host: \"" << escape(value) << "\"");
    check_error("GET / HTTP/1.1\r\nHost: " + std::string(value) + "\r\n\r\n", 400);
  }
  check_error("GET / HTTP/1.0\r\nHost: a b\r\n\r\n", 400);
}

TEST_CASE("http: valid Host values", "[http][framing][host]") {
  for (const char* value :
       {"example.com", "example.com:8080", "EXAMPLE.com", "192.0.2.1", "192.0.2.1:80",
        "[2001:db8::1]", "[2001:db8::1]:443", "[::1]", "xn--caf-dma.example", "a-b_c~d.e", "%41%42",
        "h:", "localhost:0", "sub!$&'()*+,;=delims"}) {
    const std::string in = "GET / HTTP/1.1\r\nHost: " + std::string(value) + "\r\n\r\n";
    INFO("Host: " << value);
    CHECK(parse_request_all_splits(in) ==
          request_head("GET", "/", value, 1, kKeepAlive, {{"Host", value}}, in.size()));
  }
}

TEST_CASE("http: an empty Host is valid", "[http][framing][host]") {
  // RFC 9112 §3.2: a client MUST send an empty Host when the target URI has no authority.
  const std::string in = "GET / HTTP/1.1\r\nHost:\r\n\r\n";
  CHECK(parse_request_all_splits(in) ==
        request_head("GET", "/", "", 1, kKeepAlive, {{"Host", ""}}, in.size()));
  const std::string ows = "GET / HTTP/1.1\r\nHost:  \t\r\n\r\n";
  CHECK(parse_request_all_splits(ows) ==
        request_head("GET", "/", "", 1, kKeepAlive, {{"Host", ""}}, ows.size()));
}

TEST_CASE("http: Host in an HTTP/1.0 request is optional", "[http][framing][host]") {
  const std::string with = "GET / HTTP/1.0\r\nhost: h:81\r\n\r\n";
  CHECK(parse_request_all_splits(with) ==
        request_head("GET", "/", "h:81", 0, 0, {{"host", "h:81"}}, with.size()));
  const std::string without = "GET / HTTP/1.0\r\nX: 1\r\n\r\n";
  CHECK(parse_request_all_splits(without) ==
        request_head("GET", "/", "", 0, 0, {{"X", "1"}}, without.size()));
}

TEST_CASE("http: Host after other fields, and the host view", "[http][framing][host]") {
  const std::string in = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nHost:   late.example  \r\n\r\n";
  CHECK(parse_request_all_splits(in) ==
        request_head("GET", "/", "late.example", 1, kKeepAlive,
                     {{"A", "1"}, {"B", "2"}, {"Host", "late.example"}}, in.size()));
}

// --- Connection and keep-alive ----------------------------------------------------------------

namespace {

Head get_conn(std::string_view in, std::string_view version, std::string_view conn,
              unsigned flags) {
  return request_head("GET", "/", "h", version == "HTTP/1.0" ? 0 : 1, flags,
                      {{"Host", "h"}, {"Connection", std::string(conn)}}, in.size());
}

void check_connection(std::string_view version, std::string_view value, unsigned flags) {
  const std::string in = "GET / " + std::string(version) +
                         "\r\nHost: h\r\nConnection: " + std::string(value) + "\r\n\r\n";
  INFO("request: \"" << escape(in) << "\"");
  std::string trimmed(value);
  while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) trimmed.pop_back();
  while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t'))
    trimmed.erase(0, 1);
  CHECK(parse_request_all_splits(in) == get_conn(in, version, trimmed, flags));
}

}  // namespace

TEST_CASE("http: HTTP/1.1 is persistent unless Connection: close", "[http][framing][connection]") {
  // RFC 9112 §9.3.
  check_connection("HTTP/1.1", "keep-alive", kKeepAlive);
  check_connection("HTTP/1.1", "foo", kKeepAlive);
  check_connection("HTTP/1.1", "closed", kKeepAlive);
  check_connection("HTTP/1.1", "close-x", kKeepAlive);
  check_connection("HTTP/1.1", "xclose", kKeepAlive);
  check_connection("HTTP/1.1", "close", 0);
  check_connection("HTTP/1.1", "Close", 0);
  check_connection("HTTP/1.1", "CLOSE", 0);
  check_connection("HTTP/1.1", "keep-alive, close", 0);
  check_connection("HTTP/1.1", "close, keep-alive", 0);
  check_connection("HTTP/1.1", "foo,close", 0);
  check_connection("HTTP/1.1", "foo , close , bar", 0);
  check_connection("HTTP/1.1", "te, close", 0);
}

TEST_CASE("http: HTTP/1.0 persists only with keep-alive", "[http][framing][connection]") {
  // RFC 9112 §9.3: HTTP/1.0 persists only if the keep-alive option is present (and not close).
  const std::string bare = "GET / HTTP/1.0\r\nHost: h\r\n\r\n";
  CHECK(parse_request_all_splits(bare) ==
        request_head("GET", "/", "h", 0, 0, {{"Host", "h"}}, bare.size()));
  check_connection("HTTP/1.0", "keep-alive", kKeepAlive);
  check_connection("HTTP/1.0", "Keep-Alive", kKeepAlive);
  check_connection("HTTP/1.0", "foo, keep-alive", kKeepAlive);
  check_connection("HTTP/1.0", "keep-alive, close", 0);
  check_connection("HTTP/1.0", "close", 0);
  check_connection("HTTP/1.0", "keep-alives", 0);
  check_connection("HTTP/1.0", "foo", 0);
}

TEST_CASE("http: Connection lists may hold empty elements", "[http][framing][connection]") {
  // RFC 9110 §5.6.1: a recipient MUST accept and ignore empty list elements (up to a reasonable
  // number).
  check_connection("HTTP/1.1", "", kKeepAlive);
  check_connection("HTTP/1.1", ",", kKeepAlive);
  check_connection("HTTP/1.1", ", , close", 0);
  check_connection("HTTP/1.1", "close,,", 0);
  check_connection("HTTP/1.1", " ,\t, keep-alive ,", kKeepAlive);
  check_connection("HTTP/1.0", ",keep-alive,", kKeepAlive);
}

TEST_CASE("http: Connection options across field lines", "[http][framing][connection]") {
  // RFC 9110 §5.3: field lines with the same name are one comma-separated list.
  const std::string in =
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: foo\r\nconnection: close\r\n\r\n";
  CHECK(parse_request_all_splits(in) ==
        request_head("GET", "/", "h", 1, 0,
                     {{"Host", "h"}, {"Connection", "foo"}, {"connection", "close"}}, in.size()));
  const std::string ka = "GET / HTTP/1.0\r\nConnection: x\r\nConnection: keep-alive\r\n\r\n";
  CHECK(parse_request_all_splits(ka) ==
        request_head("GET", "/", "", 0, kKeepAlive,
                     {{"Connection", "x"}, {"Connection", "keep-alive"}}, ka.size()));
}

// --- Expect -----------------------------------------------------------------------------------

TEST_CASE("http: Expect: 100-continue in HTTP/1.1", "[http][framing][expect]") {
  // RFC 9110 §10.1.1: the expectation is case-insensitive.
  for (const char* v : {"100-continue", "100-Continue", "100-CONTINUE"}) {
    const std::string in = post("Content-Length: 3\r\nExpect: " + std::string(v) + "\r\n");
    INFO("Expect: " << v);
    CHECK(parse_request_all_splits(in) == post_head(in, {{"Content-Length", "3"}, {"Expect", v}},
                                                    kKeepAlive | kExpect, kLength, 3));
  }
  const std::string lower = post("expect: 100-continue\r\n");
  CHECK(parse_request_all_splits(lower) ==
        post_head(lower, {{"expect", "100-continue"}}, kKeepAlive | kExpect));
}

TEST_CASE("http: Expect: 100-continue is ignored in HTTP/1.0", "[http][framing][expect]") {
  // RFC 9110 §10.1.1: a server MUST ignore a 100-continue expectation in an HTTP/1.0 request.
  const std::string in = post("Content-Length: 3\r\nExpect: 100-continue\r\n", "HTTP/1.0");
  CHECK(parse_request_all_splits(in) ==
        post_head(in, {{"Content-Length", "3"}, {"Expect", "100-continue"}}, 0, kLength, 3, 0));
}

TEST_CASE("http: other expectations set no flag", "[http][framing][expect]") {
  for (const char* v : {"200-ok", "100-continued", "100", "continue"}) {
    const std::string in = post("Expect: " + std::string(v) + "\r\n");
    INFO("Expect: " << v);
    CHECK(parse_request_all_splits(in) == post_head(in, {{"Expect", v}}));
  }
}

// --- Upgrade ----------------------------------------------------------------------------------

TEST_CASE("http: Upgrade with Connection: upgrade", "[http][framing][upgrade]") {
  // RFC 9110 §7.8: a sender of Upgrade MUST also send the upgrade connection option.
  const std::string in =
      "GET /chat HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
  CHECK(parse_request_all_splits(in) ==
        request_head("GET", "/chat", "h", 1, kKeepAlive | kUpgrade,
                     {{"Host", "h"}, {"Connection", "Upgrade"}, {"Upgrade", "websocket"}},
                     in.size()));
  const std::string two =
      "GET / HTTP/1.1\r\nHost: h\r\nupgrade: h2c\r\nConnection: keep-alive, upgrade\r\n\r\n";
  CHECK(parse_request_all_splits(two) ==
        request_head("GET", "/", "h", 1, kKeepAlive | kUpgrade,
                     {{"Host", "h"}, {"upgrade", "h2c"}, {"Connection", "keep-alive, upgrade"}},
                     two.size()));
}

TEST_CASE("http: Upgrade without the connection option is no upgrade", "[http][framing][upgrade]") {
  const std::string only_upgrade = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n";
  CHECK(parse_request_all_splits(only_upgrade) ==
        request_head("GET", "/", "h", 1, kKeepAlive, {{"Host", "h"}, {"Upgrade", "websocket"}},
                     only_upgrade.size()));
  const std::string only_conn = "GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n";
  CHECK(parse_request_all_splits(only_conn) ==
        request_head("GET", "/", "h", 1, kKeepAlive, {{"Host", "h"}, {"Connection", "upgrade"}},
                     only_conn.size()));
  const std::string empty = "GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade:\r\n\r\n";
  CHECK(parse_request_all_splits(empty) ==
        request_head("GET", "/", "h", 1, kKeepAlive,
                     {{"Host", "h"}, {"Connection", "upgrade"}, {"Upgrade", ""}}, empty.size()));
}

TEST_CASE("http: Upgrade in an HTTP/1.0 request is ignored", "[http][framing][upgrade]") {
  // RFC 9110 §7.8: "A server MUST ignore an Upgrade header field that is received in an
  // HTTP/1.0 request."
  const std::string in =
      "GET / HTTP/1.0\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n";
  CHECK(parse_request_all_splits(in) ==
        request_head("GET", "/", "h", 0, 0,
                     {{"Host", "h"}, {"Connection", "upgrade"}, {"Upgrade", "websocket"}},
                     in.size()));
}

// --- heads followed by more bytes -------------------------------------------------------------

TEST_CASE("http: empty lines between pipelined requests are skipped", "[http][framing]") {
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before a request-line (some
  // clients send a CRLF after a POST body); http.h counts them in that head's head_length.
  const std::string a = post("Content-Length: 2\r\n");
  const std::string b = "\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
  const StreamVerdict v = parse_request_stream_all_splits(a + "ab" + b);
  StreamVerdict expected;
  expected.messages = {
      Message{post_head(a, {{"Content-Length", "2"}}, kKeepAlive, kLength, 2), "ab", {}, kDone, 0},
      Message{request_head("GET", "/b", "h", 1, kKeepAlive, {{"Host", "h"}}, b.size()),
              "",
              {},
              kDone,
              0}};
  expected.result = kDone;
  expected.consumed = a.size() + 2 + b.size();
  CHECK(v == expected);
}

TEST_CASE("http: a head followed by more than max_head_bytes of body", "[http][framing][limits]") {
  // The limit bounds the head, not what arrives with it.
  const std::string head = post("Content-Length: 10000\r\n");
  const std::string body(10000, 'b');
  CHECK(parse_request_all_splits(head + body) ==
        post_head(head, {{"Content-Length", "10000"}}, kKeepAlive, kLength, 10000));
  const std::string big_head =
      post("X: " + std::string(8000, 'x') + "\r\nContent-Length: 9000\r\n");
  REQUIRE(big_head.size() < 8192);
  CHECK(parse_request_all_splits(big_head + std::string(9000, 'b')) ==
        post_head(big_head, {{"X", std::string(8000, 'x')}, {"Content-Length", "9000"}}, kKeepAlive,
                  kLength, 9000));
}

TEST_CASE("http: a chunked request with Connection: close", "[http][framing][te]") {
  const std::string closing = post("Connection: close\r\nTransfer-Encoding: chunked\r\n");
  CHECK(
      parse_request_all_splits(closing) ==
      post_head(closing, {{"Connection", "close"}, {"Transfer-Encoding", "chunked"}}, 0, kChunked));
}

TEST_CASE("http: a body stays pending until parse_body answers DONE", "[http][framing][body]") {
  // http.h: in_body is non-zero from a head's DONE to its body's DONE, so a caller that loops
  // on in_body sees the end of every body, also when its last byte came with a DATA piece.
  const std::string in = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET";
  chronos_http_parser p;
  chronos_http_parser_init(&p, 0);
  chronos_http_message m;
  chronos_http_message_init(&m, nullptr, 0);
  REQUIRE(chronos_http_parse_request(&p, in.data(), in.size(), &m) == CHRONOS_HTTP_DONE);
  CHECK(chronos_http_parser_in_body(&p));
  const std::string_view rest = std::string_view(in).substr(m.head_length);
  chronos_http_body body;
  REQUIRE(chronos_http_parse_body(&p, rest.data(), rest.size(), &body) == CHRONOS_HTTP_DATA);
  CHECK(std::string_view(body.data, body.len) == "abc");
  CHECK(body.consumed == 3);
  CHECK(chronos_http_parser_in_body(&p));  // the last byte came, the DONE did not yet
  REQUIRE(chronos_http_parse_body(&p, rest.data() + 3, rest.size() - 3, &body) ==
          CHRONOS_HTTP_DONE);
  CHECK(body.consumed == 0);
  CHECK_FALSE(chronos_http_parser_in_body(&p));
  CHECK(chronos_http_parser_finish(&p) == CHRONOS_HTTP_DONE);
  // Closed right after the last byte, before anyone asked: the message is still complete.
  chronos_http_parser q;
  chronos_http_parser_init(&q, 0);
  REQUIRE(chronos_http_parse_request(&q, in.data(), in.size(), &m) == CHRONOS_HTTP_DONE);
  REQUIRE(chronos_http_parse_body(&q, rest.data(), 3, &body) == CHRONOS_HTTP_DATA);
  CHECK(chronos_http_parser_finish(&q) == CHRONOS_HTTP_DONE);
}
