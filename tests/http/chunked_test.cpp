// chronos/http.h: the chunked transfer coding (RFC 9112 §7.1): chunk sizes and their overflow,
// chunk extensions, the CRLF after chunk data, the trailer section and its limits. Every case
// is a whole request stream fed whole, split at every byte and byte by byte.
#include <catch2/catch.hpp>
#include <string>

#include "http/split_check.hpp"

using namespace chronos_http_test;
using namespace std::string_literals;

namespace {

const std::string kHead = "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";

Head chunked_head() {
  Head h = request_head("POST", "/up", "h", 1, kKeepAlive,
                        {{"Host", "h"}, {"Transfer-Encoding", "chunked"}}, kHead.size());
  h.framing = kChunked;
  return h;
}

StreamVerdict chunked(std::string_view body, bool finish = false, const Config& cfg = {}) {
  return parse_request_stream_all_splits(kHead + std::string(body), finish, cfg);
}

// The body is read whole: `data`, then the trailer fields, and every byte is consumed.
void check_body(std::string_view body, std::string_view data, const Fields& trailers = {},
                const Config& cfg = {}) {
  INFO("body: \"" << escape(body) << "\"");
  const StreamVerdict v = chunked(body, false, cfg);
  StreamVerdict expected;
  expected.messages = {Message{chunked_head(), std::string(data), trailers, kDone, 0}};
  expected.result = kDone;
  expected.consumed = kHead.size() + body.size();
  CHECK(v == expected);
}

// The body is refused with `status` after `data` was handed out.
void check_body_error(std::string_view body, std::string_view data, int status = 400,
                      const Config& cfg = {}) {
  INFO("body: \"" << escape(body) << "\"");
  const StreamVerdict v = chunked(body, false, cfg);
  REQUIRE(v.messages.size() == 1);
  CHECK(v.messages[0].head == chunked_head());
  CHECK(v.messages[0].body == data);
  CHECK(v.messages[0].body_result == kError);
  CHECK(v.messages[0].body_error_status == status);
  CHECK(v.result == kError);
  CHECK(v.error_status == status);
}

// The body is incomplete: `data` so far, `consumed` bytes of it framed.
void check_body_waits(std::string_view body, std::string_view data, std::size_t consumed) {
  INFO("body: \"" << escape(body) << "\"");
  const StreamVerdict v = chunked(body);
  StreamVerdict expected;
  expected.messages = {Message{chunked_head(), std::string(data), {}, kAgain, 0}};
  expected.result = kAgain;
  expected.consumed = kHead.size() + consumed;
  CHECK(v == expected);
}

}  // namespace

TEST_CASE("http: one chunk and the last chunk", "[http][chunked]") {
  check_body("5\r\nhello\r\n0\r\n\r\n", "hello");
}

TEST_CASE("http: no chunk but the last", "[http][chunked]") {
  check_body("0\r\n\r\n", "");
  check_body("000\r\n\r\n", "");  // last-chunk = 1*"0" [ chunk-ext ] CRLF
}

TEST_CASE("http: several chunks, hex digits in either case", "[http][chunked]") {
  check_body("3\r\nabc\r\n1\r\nd\r\nA\r\n0123456789\r\na\r\n9876543210\r\n0\r\n\r\n",
             "abcd01234567899876543210");
  const std::string big(0x1f, 'x');
  check_body("1F\r\n" + big + "\r\n1f\r\n" + big + "\r\n0\r\n\r\n", big + big);
  check_body("0005\r\nhello\r\n00\r\n\r\n", "hello");
  check_body("00000000000000000000000000005\r\nhello\r\n0\r\n\r\n", "hello");
}

TEST_CASE("http: chunk data may hold anything", "[http][chunked]") {
  // CRLFs, a fake last chunk, NULs: data is counted, never scanned.
  const std::string data = "\r\n0\r\n\r\nGET / HTTP/1.1\r\n\0\xff"s;
  check_body("19\r\n" + data + "\r\n0\r\n\r\n", data);
}

TEST_CASE("http: a large chunk", "[http][chunked]") {
  const std::string data(4096, 'z');
  check_body("1000\r\n" + data + "\r\n0\r\n\r\n", data);
}

TEST_CASE("http: invalid chunk sizes are 400", "[http][chunked]") {
  // chunk-size = 1*HEXDIG, then chunk-ext or CRLF: no sign, no prefix, no whitespace.
  for (const char* size : {"", " 5", "\t5", "5 ", "5\t", "+5", "-5", "0x5", "0X5", "x", "g", "5g",
                           "5.0", "5,", "\xef\xbc\x95", "5\x0b", "5\x0c",
                           "\x0b"
                           "5",
                           "5\x7f"}) {
    check_body_error(std::string(size) + "\r\nhello\r\n0\r\n\r\n", "");
  }
  check_body_error("5\0\r\nhello\r\n0\r\n\r\n"s, "");
  check_body_error("\r\n", "");
}

TEST_CASE("http: chunk sizes up to 2^63-1; larger ones are 400, never wrapped", "[http][chunked]") {
  // http.h: hex digits below 2^63. A size that wrapped modulo 2^64 would frame differently
  // (10000000000000000 read as 0 ends the body; ...05 read as 5) - classic smuggling.
  check_body_waits("7fffffffffffffff\r\nabc", "abc", 21);
  check_body_waits("00007fffffffffffffff\r\n", "", 22);
  for (const char* size :
       {"8000000000000000", "ffffffffffffffff", "10000000000000000", "10000000000000005",
        "fffffffffffffffff", "100000000000000000000000", "ffffffffffffffffffffffffffffffff"}) {
    check_body_error(std::string(size) + "\r\nhello\r\n0\r\n\r\n", "");
  }
}

TEST_CASE("http: chunk extensions with tokens and quoted strings", "[http][chunked][ext]") {
  // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
  // chunk-ext-val = token / quoted-string.
  for (const char* line : {"5;a",
                           "5;a=b",
                           "5;a=\"b c\"",
                           "5 ;a",
                           "5\t;a",
                           "5; a",
                           "5;a =b",
                           "5;a= b",
                           "5 ; a = b",
                           "5;a;b;c=d",
                           "5;a=\"\"",
                           "5;a=\"\\\"\\\\\"",
                           "5;a=\"x\ty\"",
                           "5;a=\"caf\xc3\xa9\"",
                           "5;!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~",
                           "5;a=\"\\\x80\"",
                           "5;a=\";b=c\"",
                           "5;a=\"b\";c",
                           "5;a=b;c=\"d\";e",
                           "5;A=B",
                           "5;ieof",
                           "5;a=\"\\ \""}) {
    check_body(std::string(line) + "\r\nhello\r\n0\r\n\r\n", "hello");
  }
  check_body("5;a=b\r\nhello\r\n0;last=\"yes\"\r\n\r\n", "hello");
  const std::string long_ext = "5;x=" + std::string(1000, 'e');
  check_body(long_ext + "\r\nhello\r\n0\r\n\r\n", "hello");
}

TEST_CASE("http: malformed chunk extensions are 400", "[http][chunked][ext]") {
  for (const char* line : {"5;",           "5; ",
                           "5;=b",         "5;a=",
                           "5;a= ",        "5;a=b c",
                           "5;a b",        "5;a=\"b",
                           "5;a=\"\x01\"", "5;a=\"\x7f\"",
                           "5;a=b;",       "5;a ",
                           "5;a\t",        "5;a=b ",
                           "5;a=\"b\" ",   "5;a=\"b\"c",
                           "5,a",          "5;a=@",
                           "5;a@=b",       "5;a=b=c",
                           "5;a=\"b\\",    "5;;a",
                           "5;a=(b)",      "5;\"a\"=b",
                           "5 a",          "5;a=\"\\\x01\"",
                           "5;a=\x80",     "5;\x80=b"}) {
    check_body_error(std::string(line) + "\r\nhello\r\n0\r\n\r\n", "");
  }
  check_body_error("5;a=\"\0\"\r\nhello\r\n0\r\n\r\n"s, "");
  check_body_error("5;a=\"b\rc\"\r\nhello\r\n0\r\n\r\n", "");
  check_body_error("5;a=\"b\nc\"\r\nhello\r\n0\r\n\r\n", "");
  check_body_error("5\r\nhello\r\n0;\r\n\r\n", "hello");
}

TEST_CASE("http: a chunk-size line too long is refused", "[http][chunked][limits]") {
  // RFC 9112 §7.1.1: a server ought to limit chunk extensions and answer an appropriate 4xx
  // when over the limit; http.h bounds the chunk-size line.
  const std::string body = "5;x=" + std::string(100000, 'e') + "\r\nhello\r\n0\r\n\r\n";
  const StreamVerdict v = chunked(body);
  REQUIRE(v.messages.size() == 1);
  CHECK(v.messages[0].body.empty());
  CHECK(v.messages[0].body_result == kError);
  CHECK(v.result == kError);
  CHECK(v.error_status >= 400);
  CHECK(v.error_status < 500);
}

TEST_CASE("http: chunk data must end in CRLF", "[http][chunked]") {
  // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF: data longer than its size, or a
  // missing CRLF, is malformed.
  check_body_error("5\r\nhelloX\r\n0\r\n\r\n", "hello");
  check_body_error("5\r\nhello0\r\n\r\n", "hello");
  check_body_error("5\r\nhello\r0\r\n\r\n", "hello");
  check_body_error("5\r\nhello \r\n0\r\n\r\n", "hello");
  check_body_error("5\r\nhello\r\r\n0\r\n\r\n", "hello");
  check_body_error("3\r\nhello\r\n0\r\n\r\n", "hel");    // shorter size than data
  check_body_error("5\r\nhel\r\n0\r\n\r\n", "hel\r\n");  // longer size than data
}

TEST_CASE("http: a bare LF in chunked framing is 400 unless lenient", "[http][chunked][crlf]") {
  check_body_error("5\nhello\r\n0\r\n\r\n", "");
  check_body_error("5\r\nhello\n0\r\n\r\n", "hello");
  check_body_error("5\r\nhello\r\n0\n\r\n", "hello");
  check_body_error("5\r\nhello\r\n0\r\n\n", "hello");
  check_body_error("5\rhello\r\n0\r\n\r\n", "");
  // Leniently, bare LFs end lines (the head with CRLFs, the body with LFs).
  check_body("5\nhello\n0\n\n", "hello", {}, lenient());
  check_body("5;a=b\nhello\r\n0\nT: 1\n\n", "hello", {{"T", "1"}}, lenient());
  // A bare CR is never a line end.
  check_body_error("5\r\nhello\r\n0\r\n\rX", "hello");
  check_body_waits("5\r\nhello\r\n0\r\n\r", "hello", 13);  // a CRLF, or not: yet to come
  check_body_error("5\rhello\r\n0\r\n\r\n", "", 400, lenient());
  check_body_error("5\r\nhello\r0\r\n\r\n", "hello", 400, lenient());
}

TEST_CASE("http: trailer fields", "[http][chunked][trailers]") {
  check_body("5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n", "hello", {{"X-Checksum", "abc"}});
  check_body("0\r\nA: 1\r\nb:  two words \t\r\nC:\r\n\r\n", "",
             {{"A", "1"}, {"b", "two words"}, {"C", ""}});
  check_body("0\r\nX-Utf8: caf\xc3\xa9\r\n\r\n", "", {{"X-Utf8", "caf\xc3\xa9"}});
}

TEST_CASE("http: framing fields in the trailer section frame nothing",
          "[http][chunked][trailers][smuggling]") {
  // RFC 9110 §6.5.1: trailers are not merged into the header section without a definition that
  // allows it; Content-Length or Transfer-Encoding there does not change the framing, so the
  // next request starts right after the trailer section.
  const std::string next = "GET /n HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string body = "0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n";
  const StreamVerdict v = chunked(body + next);
  StreamVerdict expected;
  expected.messages = {
      Message{chunked_head(),
              "",
              {{"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}},
              kDone,
              0},
      Message{request_head("GET", "/n", "h", 1, kKeepAlive, {{"Host", "h"}}, next.size()),
              "",
              {},
              kDone,
              0}};
  expected.result = kDone;
  expected.consumed = kHead.size() + body.size() + next.size();
  CHECK(v == expected);
}

TEST_CASE("http: malformed trailer fields are 400", "[http][chunked][trailers]") {
  // The trailer section follows the field-line rules of the head (RFC 9112 §7.1.2, §5).
  check_body_error("0\r\nX : 1\r\n\r\n", "");
  check_body_error("0\r\nX\t: 1\r\n\r\n", "");
  check_body_error("0\r\nX: 1\r\n folded\r\n\r\n", "");
  check_body_error("0\r\n X: 1\r\n\r\n", "");
  check_body_error("0\r\nNoColon\r\n\r\n", "");
  check_body_error("0\r\n: v\r\n\r\n", "");
  check_body_error("0\r\nX(Y): 1\r\n\r\n", "");
  check_body_error("0\r\nX: a\0b\r\n\r\n"s, "");
  check_body_error(
      "0\r\nX: a\x0b"
      "b\r\n\r\n",
      "");
  check_body_error("0\r\nX: a\rb\r\n\r\n", "");
  check_body_error("0\r\nX: 1\n\r\n", "");
  check_body_error("0\r\nX: 1\r\n\n", "");
  check_body_error("5\r\nhello\r\n0\r\nX: 1\r\r\n\r\n", "hello");
}

TEST_CASE("http: the trailer section is bounded like a head", "[http][chunked][trailers][limits]") {
  // http.h: the trailer section at most max_head_bytes and max_fields fields, else 431.
  Config cfg;
  cfg.max_head_bytes = 256;
  cfg.max_fields = 4;
  check_body("0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", "",
             {{"A", "1"}, {"B", "2"}, {"C", "3"}, {"D", "4"}}, cfg);
  check_body_error("0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", "", 431, cfg);
  check_body_error("0\r\nA: " + std::string(300, 'a') + "\r\n\r\n", "", 431, cfg);
  // The default: 8192 bytes, 100 fields.
  std::string hundred;
  Fields fields;
  for (int i = 0; i < 100; ++i) {
    hundred += "T" + std::to_string(i) + ": v\r\n";
    fields.push_back({"T" + std::to_string(i), "v"});
  }
  check_body("0\r\n" + hundred + "\r\n", "", fields);
  check_body_error("0\r\n" + hundred + "T100: v\r\n\r\n", "", 431);
  check_body_error("0\r\nBig: " + std::string(9000, 'b') + "\r\n\r\n", "", 431);
}

TEST_CASE("http: an incomplete chunked body waits", "[http][chunked]") {
  check_body_waits("", "", 0);
  check_body_waits("5", "", 0);
  check_body_waits("5;a=\"b", "", 0);
  check_body_waits("5\r", "", 0);
  check_body_waits("5\r\n", "", 3);
  check_body_waits("5\r\nhel", "hel", 6);
  check_body_waits("5\r\nhello", "hello", 8);
  check_body_waits("5\r\nhello\r", "hello", 8);
  check_body_waits("5\r\nhello\r\n", "hello", 10);
  check_body_waits("5\r\nhello\r\n0", "hello", 10);
  check_body_waits("5\r\nhello\r\n0\r\n", "hello", 13);
  // The trailer section is consumed only once whole.
  check_body_waits("5\r\nhello\r\n0\r\nX: 1\r\n", "hello", 13);
  check_body_waits("5\r\nhello\r\n0\r\nX: 1\r\n\r", "hello", 13);
}

TEST_CASE("http: the peer closing inside a chunked body is an error", "[http][chunked]") {
  for (const char* body :
       {"", "5\r\nhel", "5\r\nhello\r\n", "5\r\nhello\r\n0\r\n", "5\r\nhello\r\n0\r\nX: 1\r\n"}) {
    INFO("body: \"" << escape(body) << "\"");
    const StreamVerdict v = chunked(body, true);
    REQUIRE(v.messages.size() == 1);
    CHECK(v.messages[0].body_result == kError);
    CHECK(v.result == kError);
    CHECK(v.error_status == 400);
  }
  const StreamVerdict done = chunked("5\r\nhello\r\n0\r\n\r\n", true);
  CHECK(done.result == kDone);
  CHECK(done.messages.size() == 1);
}

TEST_CASE("http: bytes after the last chunk are the next request", "[http][chunked][smuggling]") {
  // The body ends at the last chunk and its trailer section, whatever follows.
  const StreamVerdict v = chunked("0\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  REQUIRE(v.messages.size() == 2);
  CHECK(v.messages[0].body_result == kDone);
  CHECK(v.messages[1].head == error_head(400));
  CHECK(v.result == kError);
  CHECK(v.error_status == 400);
}

TEST_CASE("http: two chunked requests pipelined", "[http][chunked]") {
  const std::string first = "2\r\nab\r\n0\r\n\r\n", second = "1;x\r\nc\r\n0\r\nT: z\r\n\r\n";
  const StreamVerdict v = parse_request_stream_all_splits(kHead + first + kHead + second);
  StreamVerdict expected;
  expected.messages = {Message{chunked_head(), "ab", {}, kDone, 0},
                       Message{chunked_head(), "c", {{"T", "z"}}, kDone, 0}};
  expected.result = kDone;
  expected.consumed = 2 * kHead.size() + first.size() + second.size();
  CHECK(v == expected);
}

TEST_CASE("http: a trailer section followed by a large pipelined request",
          "[http][chunked][limits]") {
  // The trailer limit bounds the trailer section, not the bytes that come after it.
  const std::string next = "POST /n HTTP/1.1\r\nHost: h\r\nContent-Length: 9000\r\n\r\n";
  const std::string body(9000, 'n');
  const std::string first = "3\r\nabc\r\n0\r\nT: 1\r\n\r\n";
  const StreamVerdict v = chunked(first + next + body);
  Head second = request_head("POST", "/n", "h", 1, kKeepAlive,
                             {{"Host", "h"}, {"Content-Length", "9000"}}, next.size());
  second.framing = kLength;
  second.content_length = 9000;
  StreamVerdict expected;
  expected.messages = {Message{chunked_head(), "abc", {{"T", "1"}}, kDone, 0},
                       Message{second, body, {}, kDone, 0}};
  expected.result = kDone;
  expected.consumed = kHead.size() + first.size() + next.size() + body.size();
  CHECK(v == expected);
}
