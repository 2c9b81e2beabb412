// libFuzzer target: the shipped http plugin's on_data (plugins/http/http_plugin.cpp, on the SDK's
// parser), on any bytes, through the fake host of the tests.
//
// Input: the request targets' format (tests/fuzz/corpus/http_request): a set-up byte (unused
// here), a byte that seeds where the stream is cut, then the byte stream. Besides the
// sanitizers' checks it asserts that splitting never changes anything the client can see: the
// plugin sends the same bytes and makes the same close decision whether the stream arrives whole
// or chunk by chunk, keeps no more than one unfinished head, and breaks no ABI rule.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "support/fake_plugin_host.hpp"

extern "C" const chronos_plugin* chronos_plugin_entry(std::uint32_t, std::uint32_t);

namespace {

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
  static chronos::test::FakeHost host(chronos_plugin_entry(CHRONOS_ABI_MAJOR, CHRONOS_ABI_MINOR),
                                      R"({"body":"fuzz\n"})");

  chronos::test::FakeConnection whole(host);
  whole.receive(input);

  chronos::test::FakeConnection split(host);
  Splitter splitter(data[1]);
  for (std::size_t pos = 0; pos < input.size() && !split.closing();) {
    const std::size_t n = std::min(input.size() - pos, splitter.next());
    split.receive(input.substr(pos, n));
    pos += n;
  }
  check(whole.violations().empty() && split.violations().empty(), "ABI rules broken");
  check(whole.output() == split.output(), "plugin output depends on the split");
  check(whole.closing() == split.closing(), "close decision depends on the split");
  if (!whole.closing()) check(whole.unconsumed() == split.unconsumed(), "consumed bytes differ");
  // The connection never holds more than one unfinished head, chunk-size line or trailer
  // section (each at most 8 KiB, plus the byte that shows it is too long).
  check(whole.unconsumed() <= 8192, "unbounded input buffer");
  return 0;
}
