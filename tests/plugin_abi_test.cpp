// The shipped plugins as the host sees them: dlopen build/plugins/{echo,http}.so, ask the entry
// function for the descriptor, and drive it through a fake host (support/fake_plugin_host.hpp).
#include <dlfcn.h>

#include <catch2/catch.hpp>
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
  conn.receive("HEAD /x HTTP/1.1\r\n\r\n");
  CHECK(conn.take_output() == kHelloHead);
  CHECK_FALSE(conn.closing());
  CHECK(conn.unconsumed() == 0);
  CHECK(conn.violations().empty());
}

TEST_CASE("http serves the body from its config", "[plugin][http]") {
  LoadedPlugin plugin("http");
  FakeHost host(plugin.descriptor(), R"({"body": "Hi \"there\"\n\u00e9"})");
  FakeConnection conn(host);
  conn.receive("GET / HTTP/1.1\r\n\r\n");
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
  conn.receive("GET /1 HTTP/1.1\r\n\r\nHEAD /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\nGET /4 HT");
  CHECK(conn.output() == kHello + kHelloHead + kHello);
  CHECK(conn.sends() == 1);
  CHECK(conn.unconsumed() == 9);  // the unfinished fourth request waits for its end
  conn.receive("TP/1.1\r\n\r\n");
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
    conn.receive("GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n");
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
  conn.receive("GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nBad Header\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  CHECK(conn.output() ==
        kHello + response("400 Bad Request", "bad request\n", 12, "Connection: close\r\n"));
  CHECK(conn.closing());
  CHECK(conn.violations().empty());
}

TEST_CASE("http answers a head over 8 KiB with 431 and closes", "[plugin][http]") {
  LoadedPlugin plugin("http");
  FakeHost host(plugin.descriptor());
  FakeConnection conn(host);
  conn.receive("GET / HTTP/1.1\r\n");
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
    conn.receive("POST /form HTTP/1.1\r\nContent-Length: 14\r\n\r\nGET / HT");
    CHECK(conn.take_output() == not_allowed);
    conn.receive("TP/1.1");  // still body bytes: this is no request
    CHECK(conn.output().empty());
    conn.receive("\r\nGET / HTTP/1.1\r\n\r\n");
    CHECK(conn.output() == kHello);
  }
  SECTION("a chunked body") {
    conn.receive("PUT /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nGET \r\n");
    conn.receive("0\r\n\r\nGET / HTTP/1.1\r\n\r\n");
    CHECK(conn.output() == not_allowed + kHello);
  }
  SECTION("a malformed chunked body closes the connection") {
    conn.receive("PUT /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    CHECK(conn.output() == not_allowed);
    CHECK(conn.closing());
  }
  CHECK(conn.violations().empty());
}
