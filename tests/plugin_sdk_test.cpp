// The SDK's helpers: the C++ layer (chronos/plugin.hpp) turning a class into a descriptor and
// keeping exceptions out of the host, and the config reader (chronos/plugin_config.h).
#include <catch2/catch.hpp>
#include <climits>
#include <stdexcept>
#include <string>

#include "chronos/plugin.hpp"
#include "chronos/plugin_config.h"
#include "support/fake_plugin_host.hpp"

using chronos::test::FakeConnection;
using chronos::test::FakeHost;

namespace {

// Echoes lines back numbered; throws where its input tells it to.
class Numbered {
 public:
  struct Session {
    int lines = 0;
    bool opened = false;
  };
  static inline int open_sessions = 0;  // sessions not yet closed (the test is single-threaded)

  Numbered(std::string_view config, chronos::Host host) : host_(host) {
    if (config.find("fail") != std::string_view::npos) throw std::runtime_error("told to fail");
  }
  void on_open(chronos::Connection conn, Session& s) {
    if (conn.id() % 2 == 0 && refuse_even_) throw std::runtime_error("even connection");
    s.opened = true;
    ++open_sessions;
  }
  std::size_t on_data(chronos::Connection conn, Session& s, std::string_view data) {
    if (data.starts_with("throw")) throw std::logic_error("asked to throw");
    if (data.starts_with("bye")) throw 42;  // not even a std::exception
    std::size_t used = 0;
    for (std::size_t eol; (eol = data.find('\n', used)) != std::string_view::npos; used = eol + 1)
      conn.send(std::to_string(++s.lines) + " " + std::string(data.substr(used, eol + 1 - used)));
    return used;
  }
  void on_close(chronos::Connection, Session& s) {
    REQUIRE(s.opened);
    --open_sessions;
    host_.log(CHRONOS_LOG_INFO, "closed after " + std::to_string(s.lines));
  }

  bool refuse_even_ = false;

 private:
  chronos::Host host_;
};

// No Session, no on_open, no on_close: all optional.
struct Minimal {
  Minimal(std::string_view, chronos::Host) {}
  std::size_t on_data(chronos::Connection conn, std::string_view data) {
    conn.send(data);
    return data.size() + 100;  // too many: the layer clamps
  }
};

constexpr chronos_plugin kNumbered =
    chronos::detail::Adapter<Numbered>::describe("numbered", "0.1");
constexpr chronos_plugin kMinimal = chronos::detail::Adapter<Minimal>::describe("minimal", "0.1");

long config_string(std::string_view json, const char* key, std::string& out) {
  char buffer[64];
  const long n = chronos_config_string(json.data(), json.size(), key, buffer, sizeof buffer);
  if (n >= 0) out.assign(buffer, std::min<std::size_t>(static_cast<std::size_t>(n), 63));
  return n;
}

}  // namespace

TEST_CASE("the C++ layer fills the descriptor", "[plugin][sdk]") {
  CHECK(kNumbered.abi_major == CHRONOS_ABI_MAJOR);
  CHECK(kNumbered.abi_minor == CHRONOS_ABI_MINOR);
  CHECK(kNumbered.size == sizeof(chronos_plugin));
  CHECK(std::string(kNumbered.name) == "numbered");
  CHECK(chronos::abi_compatible(CHRONOS_ABI_MAJOR, CHRONOS_ABI_MINOR));
  CHECK_FALSE(chronos::abi_compatible(CHRONOS_ABI_MAJOR + 1, CHRONOS_ABI_MINOR));
}

TEST_CASE("the C++ layer passes data and sessions through", "[plugin][sdk]") {
  {
    FakeHost host(&kNumbered);
    {
      FakeConnection a(host), b(host);
      a.receive("one\ntw");
      b.receive("x\n");
      a.receive("o\n");
      CHECK(a.output() == "1 one\n2 two\n");
      CHECK(b.output() == "1 x\n");
      CHECK(Numbered::open_sessions == 2);
    }
    CHECK(Numbered::open_sessions == 0);
    CHECK(host.log().size() == 2);
  }
  FakeHost host(&kMinimal);
  FakeConnection conn(host);
  conn.receive("abc");
  CHECK(conn.output() == "abc");
  CHECK(conn.unconsumed() == 0);
  CHECK(conn.violations().empty());
}

TEST_CASE("an exception in the constructor fails init with its message", "[plugin][sdk]") {
  CHECK_THROWS_WITH(FakeHost(&kNumbered, R"({"fail": true})"), "told to fail");
}

TEST_CASE("an exception in on_data is logged and closes the connection", "[plugin][sdk]") {
  FakeHost host(&kNumbered);
  for (const char* input : {"throw\n", "bye\n"}) {
    FakeConnection conn(host);
    conn.receive(input);
    CHECK(conn.closing());
    CHECK(conn.violations().empty());
  }
  REQUIRE(host.log().size() >= 2);
  CHECK_THAT(host.log()[0], Catch::Contains("on_data") && Catch::Contains("asked to throw"));
  CHECK_THAT(host.log()[2], Catch::Contains("unknown exception"));
}

TEST_CASE("an exception in on_open refuses the connection", "[plugin][sdk]") {
  FakeHost host(&kNumbered);
  static_cast<chronos::detail::Adapter<Numbered>::Instance*>(host.instance())
      ->handler.refuse_even_ = true;
  const int before = Numbered::open_sessions;
  {
    FakeConnection first(host), second(host);  // one of two has an even id
    CHECK(first.closing() != second.closing());
  }
  CHECK(Numbered::open_sessions == before);
  CHECK_THAT(host.log()[0], Catch::Contains("even connection"));
}

TEST_CASE("config: strings, with escapes", "[sdk][config]") {
  std::string value;
  const std::string_view json =
      R"( { "a" : 1, "nested": {"body": "no", "x": [1, "}", {"y": null}]}, "body" : "q\"\\\/)"
      R"(\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00 end" , "z": "after" } )";
  REQUIRE(config_string(json, "body", value) == 23);
  CHECK(value == "q\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 end");
  CHECK(config_string(json, "z", value) == 5);
  CHECK(config_string(json, "missing", value) == CHRONOS_CONFIG_MISSING);
  CHECK(config_string(json, "x", value) == CHRONOS_CONFIG_MISSING);  // not top-level
  CHECK(config_string(json, "nested", value) == CHRONOS_CONFIG_INVALID);
  CHECK(config_string(R"({"n": 42, "t": true, "u": null})", "n", value) == 2);
  CHECK(value == "42");
  CHECK(config_string(R"({"n": 42, "t": true, "u": null})", "t", value) == 4);
  CHECK(config_string(R"({"n": 42, "t": true, "u": null})", "u", value) == CHRONOS_CONFIG_INVALID);
  CHECK(config_string("{}", "a", value) == CHRONOS_CONFIG_MISSING);
  CHECK(config_string(R"({"k\u0065y": "v"})", "key", value) == 1);  // escaped keys match

  // Output cut to the buffer, but the full length told, as snprintf does.
  char small[4];
  CHECK(chronos_config_string(json.data(), json.size(), "z", small, sizeof small) == 5);
  CHECK(std::string(small) == "aft");
  CHECK(chronos_config_string(json.data(), json.size(), "z", nullptr, 0) == 5);
}

TEST_CASE("config: integers", "[sdk][config]") {
  long long v = -7;
  const std::string_view json =
      R"({"port": 8080, "neg": -12, "s": "77", "big": 9223372036854775807,)"
      R"( "min": -9223372036854775808, "over": 9223372036854775808, "f": 1.5, "e": 1e3,)"
      R"( "str": "x", "b": true})";
  auto read = [&](const char* key) {
    return chronos_config_int(json.data(), json.size(), key, &v);
  };
  CHECK((read("port") == 0 && v == 8080));
  CHECK((read("neg") == 0 && v == -12));
  CHECK((read("s") == 0 && v == 77));
  CHECK((read("big") == 0 && v == LLONG_MAX));
  CHECK((read("min") == 0 && v == LLONG_MIN));
  v = 5;
  for (const char* bad : {"over", "f", "e", "str", "b"}) {
    INFO(bad);
    CHECK(read(bad) == CHRONOS_CONFIG_INVALID);
  }
  CHECK(v == 5);  // untouched by failures
  CHECK(read("nope") == CHRONOS_CONFIG_MISSING);
}

TEST_CASE("config: malformed text is invalid, never read past its end", "[sdk][config]") {
  std::string value;
  for (std::string_view bad :
       {"", "   ", "[]", "{", R"({"a")", R"({"a":)", R"({"a": "x)", R"({"a": "\u12")",
        R"({"a": "\ud800"})", R"({"a": "\x"})", R"({"b": [1, 2, "a": "x"})", R"({"b" 1, "a": "x"})",
        "{\"a\": \"\x01\"}"}) {
    INFO(bad);
    // A copy of exactly the given size, so a sanitizer build catches any read beyond it.
    const std::string copy(bad);
    CHECK(config_string(copy, "a", value) == CHRONOS_CONFIG_INVALID);
  }
  CHECK(chronos_config_string(nullptr, 0, "a", nullptr, 0) == CHRONOS_CONFIG_INVALID);
}
