// chronos/http.h: field lines (RFC 9112 §5, RFC 9110 §5), the head limits, the helpers
// (find_field, next_field, chunk_header, reason) and the C++ layer (chronos/http.hpp).
#include <array>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "chronos/http.hpp"
#include "http/split_check.hpp"

using namespace chronos_http_test;
using namespace std::string_literals;

extern "C" int chronos_http_c_check(void);

namespace {

const std::string kLine = "GET / HTTP/1.1\r\n";

// A GET with Host: a first, then `more` field lines, then the blank line.
std::string head_with(std::string_view more) {
  return kLine + "Host: a\r\n" + std::string(more) + "\r\n";
}

Head expect_fields(std::string_view in, Fields more, unsigned flags = kKeepAlive) {
  Fields all{{"Host", "a"}};
  all.insert(all.end(), more.begin(), more.end());
  return request_head("GET", "/", "a", 1, flags, all, in.size());
}

}  // namespace

TEST_CASE("http: fields keep their order, names as sent, values without OWS", "[http][fields]") {
  const std::string in = head_with(
      "Accept: */*\r\nX-Mixed-CASE: v\r\nx-mixed-case: w\r\nSpaces:   a b  \r\n"
      "Tabs:\t\tc\td\t \r\nEmpty:\r\nEmpty-OWS: \t \r\nColon: a:b: c\r\n");
  CHECK(parse_request_all_splits(in) == expect_fields(in, {{"Accept", "*/*"},
                                                           {"X-Mixed-CASE", "v"},
                                                           {"x-mixed-case", "w"},
                                                           {"Spaces", "a b"},
                                                           {"Tabs", "c\td"},
                                                           {"Empty", ""},
                                                           {"Empty-OWS", ""},
                                                           {"Colon", "a:b: c"}}));
}

TEST_CASE("http: field names are any token", "[http][fields]") {
  const std::string in = head_with("!#$%&'*+-.^_`|~09azAZ: token\r\n");
  CHECK(parse_request_all_splits(in) == expect_fields(in, {{"!#$%&'*+-.^_`|~09azAZ", "token"}}));
}

TEST_CASE("http: field values may hold obs-text and quoted text", "[http][fields]") {
  // RFC 9110 §5.5: field-vchar = VCHAR / obs-text; SP and HTAB inside.
  const std::string in =
      head_with("X-Utf8: caf\xc3\xa9\r\nX-High: \x80\xff\r\nX-Quoted: \"a, b\" ; c=\"d\\\"\"\r\n");
  CHECK(parse_request_all_splits(in) ==
        expect_fields(in, {{"X-Utf8", "caf\xc3\xa9"},
                           {"X-High", "\x80\xff"},
                           {"X-Quoted", "\"a, b\" ; c=\"d\\\"\""}}));
}

TEST_CASE("http: whitespace between a field name and the colon is 400", "[http][fields]") {
  // RFC 9112 §5.1: a server MUST reject such a request with 400.
  CHECK(parse_request_all_splits(head_with("X-A : b\r\n")) == error_head(400));
  CHECK(parse_request_all_splits(head_with("X-A\t: b\r\n")) == error_head(400));
  CHECK(parse_request_all_splits(kLine + "Host : a\r\n\r\n") == error_head(400));
  CHECK(parse_request_all_splits(head_with("Content-Length : 0\r\n")) == error_head(400));
}

TEST_CASE("http: field names that are not tokens are 400", "[http][fields]") {
  for (const char* line :
       {"X(A): b", "X A: b", "X/A: b", "X\"A: b", "X@A: b", "[X]: b", "X{A}: b", "X=A: b",
        "X\x01: b", "X\x7f: b", "caf\xc3\xa9: b", "X;A: b", "X\\A: b", "X?A: b"}) {
    INFO("line \"" << escape(line) << "\"");
    CHECK(parse_request_all_splits(head_with(std::string(line) + "\r\n")) == error_head(400));
  }
}

TEST_CASE("http: a field line without name or colon is 400", "[http][fields]") {
  CHECK(parse_request_all_splits(head_with(": b\r\n")) == error_head(400));
  CHECK(parse_request_all_splits(head_with("NoColon\r\n")) == error_head(400));
  CHECK(parse_request_all_splits(head_with("NoColon value\r\n")) == error_head(400));
  CHECK(parse_request_all_splits(kLine + "Host: a\r\n:\r\n\r\n") == error_head(400));
}

TEST_CASE("http: CR, LF and NUL inside a field value are 400", "[http][fields]") {
  // RFC 9110 §5.5: a recipient of CR, LF or NUL in a field value MUST reject the message or
  // replace each by SP; this parser never rewrites bytes, so it rejects.
  CHECK(parse_request_all_splits(head_with("X: a\0b\r\n"s)) == error_head(400));
  CHECK(parse_request_all_splits(head_with("X: \0\r\n"s)) == error_head(400));
  CHECK(parse_request_all_splits(head_with("X: a\rb\r\n")) == error_head(400));
  CHECK(parse_request_all_splits(head_with("X: a\r\r\n")) == error_head(400));
  CHECK(parse_request_all_splits(head_with("X: a\nb\r\n")) == error_head(400));
}

TEST_CASE("http: other control characters in a field value are 400", "[http][fields]") {
  // http.h: values hold no control character but HTAB (RFC 9110 §5.5 lets a recipient reject).
  for (const char c : {'\x01', '\x07', '\x08', '\x0b', '\x0c', '\x1b', '\x1f', '\x7f'}) {
    INFO("control " << int(c));
    CHECK(parse_request_all_splits(head_with(std::string("X: a") + c + "b\r\n")) ==
          error_head(400));
    CHECK(parse_request_all_splits(head_with(std::string("X: ") + c + "\r\n")) == error_head(400));
    CHECK(parse_request_all_splits(head_with(std::string("X: a") + c + "\r\n")) == error_head(400));
  }
}

TEST_CASE("http: obs-fold is refused with 400", "[http][fields]") {
  // RFC 9112 §5.2: a server MUST reject obs-fold with 400 or replace it by SP; http.h rejects.
  CHECK(parse_request_all_splits(head_with("X: a\r\n b\r\n")) == error_head(400));
  CHECK(parse_request_all_splits(head_with("X: a\r\n\tb\r\n")) == error_head(400));
  CHECK(parse_request_all_splits(head_with("X: a\r\n \r\n")) == error_head(400));
  CHECK(parse_request_all_splits(head_with("X:\r\n  b\r\n")) == error_head(400));
}

TEST_CASE("http: whitespace before the first field line is 400", "[http][fields]") {
  // RFC 9112 §2.2: whitespace between the start-line and the first field: reject or ignore the
  // line; a strict parser rejects.
  CHECK(parse_request_all_splits(kLine + " Host: a\r\n\r\n") == error_head(400));
  CHECK(parse_request_all_splits(kLine + "\tHost: a\r\n\r\n") == error_head(400));
  CHECK(parse_request_all_splits(kLine + " \r\nHost: a\r\n\r\n") == error_head(400));
}

TEST_CASE("http: a long field value within the limit", "[http][fields][limits]") {
  const std::string value(7000, 'v');
  const std::string in = head_with("X-Long: " + value + "\r\n");
  CHECK(parse_request_all_splits(in) == expect_fields(in, {{"X-Long", value}}));
}

TEST_CASE("http: a head of exactly max_head_bytes is accepted, one more is 431",
          "[http][fields][limits]") {
  // http.h: the head is at most max_head_bytes (default 8192) bytes.
  const std::string base = head_with("X-Pad: \r\n");
  const std::size_t pad = 8192 - base.size();
  const std::string exact = head_with("X-Pad: " + std::string(pad, 'p') + "\r\n");
  REQUIRE(exact.size() == 8192);
  CHECK(parse_request_all_splits(exact) ==
        expect_fields(exact, {{"X-Pad", std::string(pad, 'p')}}));
  const std::string over = head_with("X-Pad: " + std::string(pad + 1, 'p') + "\r\n");
  REQUIRE(over.size() == 8193);
  CHECK(parse_request_all_splits(over) == error_head(431));
}

TEST_CASE("http: a head that never ends is 431 once over the limit", "[http][fields][limits]") {
  std::string in = kLine + "Host: a\r\n";
  while (in.size() <= 8192) in += "X-Filler: " + std::string(1000, 'f') + "\r\n";
  CHECK(parse_request_all_splits(in) == error_head(431));
  // Below the limit it is only incomplete.
  CHECK(parse_request_all_splits(in.substr(0, 8000)) == Head{});
}

TEST_CASE("http: the limit counts the empty lines before the request line",
          "[http][fields][limits]") {
  // head_length counts them (http.h), and the head is what the limit bounds.
  Config cfg;
  cfg.max_head_bytes = 64;
  const std::string in = "GET / HTTP/1.1\r\nHost: a\r\nX: 0123456789012345678901\r\n\r\n";
  REQUIRE(in.size() == 54);
  const Fields fields{{"Host", "a"}, {"X", "0123456789012345678901"}};
  const std::string five = "\r\n\r\n\r\n\r\n\r\n" + in;  // 64 bytes: fits
  CHECK(parse_request_all_splits(five, cfg) ==
        request_head("GET", "/", "a", 1, kKeepAlive, fields, 64));
  CHECK(parse_request_all_splits("\r\n" + five, cfg) == error_head(431));  // 66 bytes
}

TEST_CASE("http: set_limits changes the head limit and the field count", "[http][fields][limits]") {
  Config cfg;
  cfg.max_head_bytes = 100;
  cfg.max_fields = 3;
  const std::string three = head_with("A: 1\r\nB: 2\r\n");
  CHECK(parse_request_all_splits(three, cfg) == expect_fields(three, {{"A", "1"}, {"B", "2"}}));
  CHECK(parse_request_all_splits(head_with("A: 1\r\nB: 2\r\nC: 3\r\n"), cfg) == error_head(431));
  const std::string big = head_with("A: " + std::string(100, 'x') + "\r\n");
  CHECK(parse_request_all_splits(big, cfg) == error_head(431));
  // 0 keeps a limit as it is.
  Config keep;
  keep.max_head_bytes = 0;
  keep.max_fields = 0;
  CHECK(parse_request_all_splits(big, keep) == expect_fields(big, {{"A", std::string(100, 'x')}}));
}

TEST_CASE("http: 100 fields are accepted, 101 are 431", "[http][fields][limits]") {
  // http.h: at most max_fields (default 100) field lines.
  std::string more;
  Fields expected;
  for (int i = 1; i < 100; ++i) {
    // (name += ... rather than "F" + ...: GCC 12 warns falsely on that, its bug 105329)
    std::string name = "F";
    name += std::to_string(i);
    more += name + ": " + std::to_string(i) + "\r\n";
    expected.push_back({name, std::to_string(i)});
  }
  const std::string hundred = head_with(more);
  CHECK(parse_request_all_splits(hundred) == expect_fields(hundred, expected));
  CHECK(parse_request_all_splits(head_with(more + "F100: 100\r\n")) == error_head(431));
}

TEST_CASE("http: more fields than the message's array holds is 431", "[http][fields][limits]") {
  // http.h: with an array, at most fields_capacity fields are accepted.
  Config cfg;
  cfg.fields_capacity = 3;
  const std::string three = head_with("A: 1\r\nB: 2\r\n");
  CHECK(parse_request_all_splits(three, cfg) == expect_fields(three, {{"A", "1"}, {"B", "2"}}));
  CHECK(parse_request_all_splits(head_with("A: 1\r\nB: 2\r\nC: 3\r\n"), cfg) == error_head(431));
}

TEST_CASE("http: find_field is case-insensitive and finds the first", "[http][fields][api]") {
  const std::string in = head_with("X-Dup: one\r\nx-dup: two\r\nEmpty:\r\n");
  chronos_http_parser p;
  chronos_http_parser_init(&p, 0);
  chronos_http_field storage[8];
  chronos_http_message m;
  chronos_http_message_init(&m, storage, 8);
  REQUIRE(chronos_http_parse_request(&p, in.data(), in.size(), &m) == kDone);
  std::size_t n = 99;
  const char* v = chronos_http_find_field(&m, "X-DUP", &n);
  REQUIRE(v != nullptr);
  CHECK(std::string(v, n) == "one");
  v = chronos_http_find_field(&m, "empty", &n);
  REQUIRE(v != nullptr);
  CHECK(n == 0);
  CHECK(chronos_http_find_field(&m, "X-Du", &n) == nullptr);
  CHECK(chronos_http_find_field(&m, "X-Dupe", &n) == nullptr);
  CHECK(chronos_http_find_field(&m, "host", nullptr) != nullptr);
  // Without an array nothing can be found.
  chronos_http_parser_init(&p, 0);
  chronos_http_message_init(&m, nullptr, 0);
  REQUIRE(chronos_http_parse_request(&p, in.data(), in.size(), &m) == kDone);
  CHECK(m.field_count == 4);
  CHECK(chronos_http_find_field(&m, "host", &n) == nullptr);
}

TEST_CASE("http: next_field walks a block of field lines", "[http][fields][api]") {
  const std::string block = "A: 1\r\nB-Two:  x y \t\r\nC:\r\n";
  const char* cursor = block.data();
  chronos_http_field f;
  Fields got;
  while (chronos_http_next_field(&cursor, block.data() + block.size(), &f))
    got.push_back({std::string(f.name, f.name_len), std::string(f.value, f.value_len)});
  CHECK(got == Fields{{"A", "1"}, {"B-Two", "x y"}, {"C", ""}});
  CHECK(cursor == block.data() + block.size());
  const char* empty = "";
  CHECK(chronos_http_next_field(&empty, empty, &f) == 0);
}

TEST_CASE("http: chunk_header writes hex sizes", "[http][api]") {
  char out[CHRONOS_HTTP_CHUNK_HEADER_MAX];
  const auto header = [&](std::uint64_t size) {
    return std::string(out, chronos_http_chunk_header(out, size));
  };
  CHECK(header(0) == "0\r\n");
  CHECK(header(1) == "1\r\n");
  CHECK(header(15) == "f\r\n");
  CHECK(header(16) == "10\r\n");
  CHECK(header(0x1a2b) == "1a2b\r\n");
  CHECK(header(UINT64_MAX) == "ffffffffffffffff\r\n");
  CHECK(header(UINT64_MAX).size() == CHRONOS_HTTP_CHUNK_HEADER_MAX);
  std::array<char, CHRONOS_HTTP_CHUNK_HEADER_MAX> buffer{};
  CHECK(chronos::http::chunk_header(4096, buffer) == "1000\r\n");
}

TEST_CASE("http: reason phrases", "[http][api]") {
  CHECK(std::string(chronos_http_reason(200)) == "OK");
  CHECK(std::string(chronos_http_reason(404)) == "Not Found");
  CHECK(std::string(chronos_http_reason(431)) == "Request Header Fields Too Large");
  CHECK(std::string(chronos_http_reason(505)) == "HTTP Version Not Supported");
  CHECK(std::string(chronos_http_reason(0)) == "");
  CHECK(std::string(chronos_http_reason(299)) == "");
  CHECK(chronos::http::reason(502) == "Bad Gateway");
}

TEST_CASE("http: the header is valid C11 (c_compile_check.c)", "[http][api]") {
  CHECK(chronos_http_c_check() == 0);
}

TEST_CASE("http: the C++ layer over a pipelined stream", "[http][api]") {
  namespace h = chronos::http;
  const std::string data =
      "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\nhi\r\n0\r\nT: 1\r\n\r\n"
      "GET /b HTTP/1.1\r\nhost: y\r\nConnection: close\r\n\r\n";
  h::Parser parser;
  std::size_t pos = 0;
  std::vector<std::string> seen;
  std::string body;
  for (int guard = 0; guard < 20 && pos < data.size(); ++guard) {
    if (parser.in_body()) {
      h::BodyPiece piece;
      const auto r = parser.parse_body(std::string_view(data).substr(pos), piece);
      pos += piece.consumed;
      if (r == h::Result::data) {
        body += piece.data;
        continue;
      }
      REQUIRE(r == h::Result::done);
      piece.for_each_trailer([&](h::Field f) { seen.push_back("trailer " + std::string(f.name)); });
      continue;
    }
    h::RequestWithFields<4> request;
    REQUIRE(parser.parse_request(std::string_view(data).substr(pos), request) == h::Result::done);
    seen.push_back(std::string(request.method()) + " " + std::string(request.target()) + " " +
                   std::string(request.host()) + " " + std::string(*request.find("HOST")));
    CHECK(request.field_count() == 2u);
    CHECK(request.keep_alive() == (request.target() == "/a"));
    CHECK(request.framing() == (request.target() == "/a" ? h::Framing::chunked : h::Framing::none));
    CHECK_FALSE(request.find("nope").has_value());
    pos += request.head_length();
  }
  CHECK(pos == data.size());
  CHECK(body == "hi");
  CHECK(seen == std::vector<std::string>{"POST /a x x", "trailer T", "GET /b y y"});
  CHECK(parser.finish() == h::Result::done);
  CHECK(h::iequals("Content-Length", "content-LENGTH"));
  CHECK_FALSE(h::iequals("Content-Length", "Content-Lengt"));

  h::Parser bad;
  h::Request r;
  CHECK(bad.parse_request("GET / HTTP/3.0\r\n\r\n", r) == h::Result::error);
  CHECK(bad.error_status() == 505);
  CHECK_FALSE(bad.error().empty());
}
