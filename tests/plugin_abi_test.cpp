// The shipped plugins as the host sees them: dlopen build/plugins/{echo,http}.so, ask the entry
// function for the descriptor, and drive it through a fake host (support/fake_plugin_host.hpp).
#include <dlfcn.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <random>
#include <stdexcept>
#include <string>

#include "chronos/plugin.h"
#include "support/fake_plugin_host.hpp"

using chronos::test::FakeConnection;
using chronos::test::FakeHost;

namespace {

// One dlopen'ed plugin file, closed at the end of the test.
class LoadedPlugin {
 public:
  explicit LoadedPlugin(const std::string& name) {
    const std::string path = std::string(CHRONOS_PLUGIN_DIR) + "/" + name + ".so";
    handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) throw std::runtime_error(dlerror());
    entry_ = reinterpret_cast<chronos_plugin_entry_fn>(dlsym(handle_, CHRONOS_PLUGIN_ENTRY_NAME));
    if (entry_ == nullptr) throw std::runtime_error(path + ": no " CHRONOS_PLUGIN_ENTRY_NAME);
  }
  ~LoadedPlugin() { dlclose(handle_); }
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;

  const chronos_plugin* descriptor(std::uint32_t major = CHRONOS_ABI_MAJOR,
                                   std::uint32_t minor = CHRONOS_ABI_MINOR) const {
    return entry_(major, minor);
  }

 private:
  void* handle_ = nullptr;
  chronos_plugin_entry_fn entry_ = nullptr;
};

std::string response(std::string_view status, std::string_view body, std::size_t length,
                     std::string_view extra = "") {
  return "HTTP/1.1 " + std::string(status) +
         "\r\nServer: chronos\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(length) + "\r\n" + std::string(extra) + "\r\n" + std::string(body);
}

const std::string kHello = response("200 OK", "hello\n", 6);
const std::string kHelloHead = response("200 OK", "", 6);

}  // namespace

TEST_CASE("both plugins describe themselves and refuse another ABI major", "[plugin]") {
  for (const char* name : {"echo", "http"}) {
    INFO(name);
    LoadedPlugin plugin(name);
    const chronos_plugin* d = plugin.descriptor();
    REQUIRE(d != nullptr);
    CHECK(d->abi_major == CHRONOS_ABI_MAJOR);
    CHECK(d->abi_minor == CHRONOS_ABI_MINOR);
    CHECK(d->size == sizeof(chronos_plugin));
    CHECK(std::string(d->name) == name);
    CHECK(d->init != nullptr);
    CHECK(d->shutdown != nullptr);
    CHECK(d->on_data != nullptr);
    CHECK(plugin.descriptor(CHRONOS_ABI_MAJOR + 1, 0) == nullptr);
  }
}

TEST_CASE("echo sends back every byte, whatever the message sizes", "[plugin][echo]") {
  LoadedPlugin plugin("echo");
  FakeHost host(plugin.descriptor());
  FakeConnection conn(host);

  std::mt19937 random(42);
  std::string sent;
  for (std::size_t size : {1, 2, 7, 1000, 65536, 1 << 20}) {
    std::string message(size, '\0');
    for (char& c : message) c = static_cast<char>(random());
    conn.receive(message);
    sent += message;
    REQUIRE(conn.unconsumed() == 0);
  }
  CHECK(conn.output() == sent);
  CHECK_FALSE(conn.closing());
  CHECK(conn.violations().empty());
}

TEST_CASE("http answers GET and HEAD", "[plugin][http]") {
  LoadedPlugin plugin("http");
  FakeHost host(plugin.descriptor());
  FakeConnection conn(host);

  conn.receive("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
  CHECK(conn.take_output() == kHello);
  conn.receive("HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(conn.take_output() == kHelloHead);
  CHECK_FALSE(conn.closing());
  CHECK(conn.unconsumed() == 0);
  CHECK(conn.violations().empty());
}

TEST_CASE("http serves the body from its config", "[plugin][http]") {
  LoadedPlugin plugin("http");
  FakeHost host(plugin.descriptor(), R"({"body": "Hi \"there\"\n\u00e9"})");
  FakeConnection conn(host);
  conn.receive("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(conn.output() == response("200 OK", "Hi \"there\"\n\xc3\xa9", 13));
}

TEST_CASE("http refuses a config whose body is not a string", "[plugin][http]") {
  LoadedPlugin plugin("http");
  CHECK_THROWS_WITH(FakeHost(plugin.descriptor(), R"({"body": [1]})"), Catch::Contains("body"));
}

TEST_CASE("http answers all pipelined requests in one send", "[plugin][http]") {
  LoadedPlugin plugin("http");
  FakeHost host(plugin.descriptor());
  FakeConnection conn(host);
  conn.receive(
      "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 "
      "HTTP/1.1\r\nHost: a\r\n\r\nGET /4 HT");
  CHECK(conn.output() == kHello + kHelloHead + kHello);
  CHECK(conn.sends() == 1);
  CHECK(conn.unconsumed() == 9);  // the unfinished fourth request waits for its end
  conn.receive("TP/1.1\r\nHost: a\r\n\r\n");
  CHECK(conn.output() == kHello + kHelloHead + kHello + kHello);
  CHECK(conn.unconsumed() == 0);
}

TEST_CASE("http answers a request that arrives byte by byte", "[plugin][http]") {
  LoadedPlugin plugin("http");
  FakeHost host(plugin.descriptor());
  FakeConnection conn(host);
  const std::string request = "GET / HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n";
  for (char c : request) {
    CHECK(conn.output().empty());
    conn.receive(std::string(1, c));
  }
  CHECK(conn.output() == kHello);
}

TEST_CASE("http closes after Connection: close and after HTTP/1.0", "[plugin][http]") {
  LoadedPlugin plugin("http");
  FakeHost host(plugin.descriptor());
  const std::string closing = response("200 OK", "hello\n", 6, "Connection: close\r\n");

  SECTION("Connection: close, and the pipelined request after it is not answered") {
    FakeConnection conn(host);
    conn.receive(
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(conn.output() == closing);
    CHECK(conn.closing());
  }
  SECTION("HTTP/1.0") {
    FakeConnection conn(host);
    conn.receive("GET / HTTP/1.0\r\n\r\n");
    CHECK(conn.output() == closing);
    CHECK(conn.closing());
  }
  SECTION("HTTP/1.0 with keep-alive stays open and says so") {
    FakeConnection conn(host);
    conn.receive("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    CHECK(conn.output() == response("200 OK", "hello\n", 6, "Connection: keep-alive\r\n"));
    CHECK_FALSE(conn.closing());
  }
}

TEST_CASE("http answers a malformed request with 400 and closes", "[plugin][http]") {
  LoadedPlugin plugin("http");
  FakeHost host(plugin.descriptor());
  FakeConnection conn(host);
  conn.receive(
      "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\nGET / "
      "HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(conn.output() ==
        kHello + response("400 Bad Request", "bad request\n", 12, "Connection: close\r\n"));
  CHECK(conn.closing());
  CHECK(conn.violations().empty());
}

TEST_CASE("http answers a head over 8 KiB with 431 and closes", "[plugin][http]") {
  LoadedPlugin plugin("http");
  FakeHost host(plugin.descriptor());
  FakeConnection conn(host);
  conn.receive("GET / HTTP/1.1\r\nHost: a\r\n");
  for (int i = 0; i < 1000 && !conn.closing(); ++i) conn.receive("X-Filler: 0123456789\r\n");
  CHECK(conn.output() == response("431 Request Header Fields Too Large",
                                  "request header fields too large\n", 32,
                                  "Connection: close\r\n"));
  CHECK(conn.closing());
}

TEST_CASE("http answers other methods with 405 and skips their bodies", "[plugin][http]") {
  LoadedPlugin plugin("http");
  FakeHost host(plugin.descriptor());
  FakeConnection conn(host);
  const std::string not_allowed =
      response("405 Method Not Allowed", "method not allowed\n", 19, "Allow: GET, HEAD\r\n");

  SECTION("a Content-Length body, split across reads") {
    conn.receive("POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 14\r\n\r\nGET / HT");
    CHECK(conn.take_output() == not_allowed);
    conn.receive("TP/1.1");  // still body bytes: this is no request
    CHECK(conn.output().empty());
    conn.receive("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(conn.output() == kHello);
  }
  SECTION("a chunked body") {
    conn.receive("PUT /f HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nGET \r\n");
    conn.receive("0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(conn.output() == not_allowed + kHello);
  }
  SECTION("a malformed chunked body closes the connection") {
    conn.receive("PUT /f HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    CHECK(conn.output() == not_allowed);
    CHECK(conn.closing());
  }
  CHECK(conn.violations().empty());
}

namespace {

// What the http plugin answers to `request` on a fresh connection, and whether it closed.
struct Answer {
  std::string output;
  bool closed = false;
};
Answer http_answer(FakeHost& host, std::string_view request) {
  FakeConnection conn(host);
  conn.receive(request);
  CHECK(conn.violations().empty());
  return {conn.output(), conn.closing()};
}

std::string error_reply(int status, std::string_view reason) {
  std::string text(reason);
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  text += "\n";
  return response(std::to_string(status) + " " + std::string(reason), text, text.size(),
                  "Connection: close\r\n");
}

}  // namespace

TEST_CASE("http refuses request smuggling: 400, close, and nothing after it is served",
          "[plugin][http]") {
  LoadedPlugin plugin("http");
  FakeHost host(plugin.descriptor());
  const std::string smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string bad_request = error_reply(400, "Bad Request");
  // Each head is followed by bytes that some front end would frame as a second request.
  for (const std::string head : {
           "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\nContent-Length: 0\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , ,\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
           "x\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0b"
           "chunked\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\n Transfer-Encoding: chunked\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n",
           "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 4\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x4\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
           "POST / HTTP/1.1\nHost: a\nContent-Length: 4\n\n",
           "POST / HTTP/1.1\r\nHost: a\rContent-Length: 4\r\n\r\n",
       }) {
    INFO(head);
    const Answer answer = http_answer(host, head + smuggled);
    CHECK(answer.output == bad_request);
    CHECK(answer.closed);
  }
}

TEST_CASE("http reads a chunked body to its end or closes: a bad chunk line smuggles nothing",
          "[plugin][http]") {
  LoadedPlugin plugin("http");
  FakeHost host(plugin.descriptor());
  const std::string not_allowed =
      response("405 Method Not Allowed", "method not allowed\n", 19, "Allow: GET, HEAD\r\n");
  const std::string post = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
  for (const std::string body :
       {"5 \r\nhello\r\n0\r\n\r\n", "5\nhello\n0\n\n", "0x5\r\nhello\r\n0\r\n\r\n",
        "5\r\nhello!\r\n0\r\n\r\n", "ffffffffffffffffff\r\n", "5;a b\r\nhello\r\n0\r\n\r\n",
        "-5\r\nhello\r\n0\r\n\r\n"}) {
    INFO(body);
    const Answer answer = http_answer(host, post + body + smuggled);
    CHECK(answer.output == not_allowed);
    CHECK(answer.closed);
  }
  // A well-formed body with extensions and trailers keeps the next request in frame.
  const Answer good =
      http_answer(host, post + "5;name=\"va;l\";x\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n" + smuggled);
  CHECK(good.output == not_allowed + kHello);
  CHECK_FALSE(good.closed);
}

TEST_CASE("http needs exactly one valid Host in HTTP/1.1", "[plugin][http]") {
  LoadedPlugin plugin("http");
  FakeHost host(plugin.descriptor());
  const std::string bad_request = error_reply(400, "Bad Request");
  for (const char* request :
       {"GET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
        "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"}) {
    INFO(request);
    const Answer answer = http_answer(host, request);
    CHECK(answer.output == bad_request);
    CHECK(answer.closed);
  }
  CHECK(http_answer(host, "GET / HTTP/1.1\r\nHost: a\r\n\r\n").output == kHello);
  CHECK(http_answer(host, "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n").output == kHello);
  CHECK(http_answer(host, "GET / HTTP/1.1\r\nHost:\r\n\r\n").output == kHello);  // RFC 9112 §3.2
  const Answer http10 = http_answer(host, "GET / HTTP/1.0\r\n\r\n");
  CHECK(http10.output == response("200 OK", "hello\n", 6, "Connection: close\r\n"));
}

TEST_CASE("http answers 501 for a transfer coding it does not decode, 505 for HTTP/2",
          "[plugin][http]") {
  LoadedPlugin plugin("http");
  FakeHost host(plugin.descriptor());
  const Answer gzip =
      http_answer(host, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
  CHECK(gzip.output == error_reply(501, "Not Implemented"));
  CHECK(gzip.closed);
  const Answer http2 = http_answer(host, "GET / HTTP/2.0\r\nHost: a\r\n\r\n");
  CHECK(http2.output == error_reply(505, "HTTP Version Not Supported"));
  CHECK(http2.closed);
}

TEST_CASE("http: Expect: 100-continue with a body is answered at once, then closed",
          "[plugin][http]") {
  LoadedPlugin plugin("http");
  FakeHost host(plugin.descriptor());
  const Answer answer = http_answer(
      host, "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  CHECK(answer.output == response("405 Method Not Allowed", "method not allowed\n", 19,
                                  "Allow: GET, HEAD\r\nConnection: close\r\n"));
  CHECK(answer.closed);
  // Without a body nothing is pending: the connection stays.
  const Answer get = http_answer(host, "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n");
  CHECK(get.output == kHello);
  CHECK_FALSE(get.closed);
}
