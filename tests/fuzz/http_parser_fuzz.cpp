// libFuzzer target: the HTTP request parser and the http plugin's on_data, on any bytes.
//
// Input: one byte that seeds where the stream is cut, then the byte stream. Besides the
// sanitizers' checks it asserts that splitting never changes anything: the parser gives the
// same answer for the whole stream as when the stream grows chunk by chunk, and the plugin sends
// the same bytes and makes the same close decision either way. Run it with run_fuzz.sh.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "http_parser.hpp"
#include "support/fake_plugin_host.hpp"

extern "C" const chronos_plugin* chronos_plugin_entry(std::uint32_t, std::uint32_t);

namespace {

using chronos::http::ParseStatus;
using chronos::http::Request;
using chronos::http::RequestParser;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

// Chunk sizes from a tiny PRNG, so that one input always splits the same way.
class Splitter {
 public:
  explicit Splitter(std::uint8_t seed) : state_(0x9E3779B9u ^ seed), small_(seed & 1) {}
  std::size_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return 1 + state_ % (small_ ? 8 : 2048);
  }

 private:
  std::uint32_t state_;
  bool small_;
};

void fuzz_parser(std::string_view input, std::uint8_t seed) {
  RequestParser whole_parser;
  Request whole;
  const ParseStatus whole_status = whole_parser.parse(input, whole);

  RequestParser parser;
  Request split;
  ParseStatus status = ParseStatus::need_more;
  Splitter splitter(seed);
  for (std::size_t fed = 0; fed < input.size() && status == ParseStatus::need_more;) {
    fed = std::min(input.size(), fed + splitter.next());
    status = parser.parse(input.substr(0, fed), split);
  }
  check(status == whole_status, "parser status depends on the split");
  if (status != ParseStatus::complete) return;
  check(split.head_length == whole.head_length && split.head_length <= input.size() &&
            split.head_length <= chronos::http::kMaxHeadBytes,
        "head length");
  check(split.method == whole.method && split.target == whole.target &&
            split.minor_version == whole.minor_version && split.keep_alive == whole.keep_alive &&
            split.body == whole.body && split.content_length == whole.content_length,
        "request fields depend on the split");
  check(split.method.data() >= input.data() &&
            split.target.data() + split.target.size() <= input.data() + split.head_length,
        "views outside the head");
}

void fuzz_plugin(std::string_view input, std::uint8_t seed) {
  static chronos::test::FakeHost host(chronos_plugin_entry(CHRONOS_ABI_MAJOR, CHRONOS_ABI_MINOR),
                                      R"({"body":"fuzz\n"})");

  chronos::test::FakeConnection whole(host);
  whole.receive(input);

  chronos::test::FakeConnection split(host);
  Splitter splitter(seed);
  for (std::size_t pos = 0; pos < input.size() && !split.closing();) {
    const std::size_t n = std::min(input.size() - pos, splitter.next());
    split.receive(input.substr(pos, n));
    pos += n;
  }
  check(whole.violations().empty() && split.violations().empty(), "ABI rules broken");
  check(whole.output() == split.output(), "plugin output depends on the split");
  check(whole.closing() == split.closing(), "close decision depends on the split");
  if (!whole.closing()) check(whole.unconsumed() == split.unconsumed(), "consumed bytes differ");
  // The connection never holds more than one unfinished head (plus the byte that shows it is
  // too long).
  check(whole.unconsumed() <= chronos::http::kMaxHeadBytes, "unbounded input buffer");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  fuzz_parser(input, data[0]);
  fuzz_plugin(input, data[0]);
  return 0;
}
