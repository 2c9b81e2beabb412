// libFuzzer target, differential: chronos/http.h must read a stream the same way however it is
// split ("Any split of the bytes gives the same result", http.h).
//
// Input: one byte that chooses requests or responses (bit 7) and sets up the parser (bits 0-6,
// see http_fuzz::Config::from_byte; bits 0-1 are the request method for responses), one byte
// that seeds the split points, then the stream. The stream is read three ways: whole, in
// pseudo-random pieces, and (up to 1024 bytes) byte by byte. Each run writes down every head
// (all its values and fields, as stream offsets), the body bytes of each message, the trailer
// section, and how the stream ended (finish's verdict, or the error's status and reason); the
// runs must agree exactly. Each run is also checked call by call by http_fuzz::Driver. Run it
// with run_fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "http_fuzz_driver.hpp"

namespace {

void print_event(const char* label, const http_fuzz::Transcript& t, std::size_t i) {
  if (i >= t.size()) {
    std::fprintf(stderr, "  %s: (ends after %zu events)\n", label, t.size());
    return;
  }
  const std::string& e = t[i];
  std::fprintf(stderr, "  %s: ", label);
  for (const char ch : e.substr(0, 400)) {
    const unsigned char u = static_cast<unsigned char>(ch);
    if (u >= 0x20 && u < 0x7f)
      std::fputc(ch, stderr);
    else
      std::fprintf(stderr, "\\x%02x", u);
  }
  std::fprintf(stderr, "%s\n", e.size() > 400 ? "..." : "");
}

void compare(const http_fuzz::Transcript& whole, const http_fuzz::Transcript& split,
             const char* how) {
  if (whole == split) return;
  std::size_t i = 0;
  while (i < whole.size() && i < split.size() && whole[i] == split[i]) ++i;
  std::fprintf(stderr, "invariant broken: the result depends on the split (%s), event %zu:\n", how,
               i);
  print_event("whole", whole, i);
  print_event(how, split, i);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const http_fuzz::Config config =
      http_fuzz::Config::from_byte(data[0] & 0x7f, /*response=*/(data[0] & 0x80) != 0);
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);
  using http_fuzz::Driver;
  using http_fuzz::Schedule;

  const http_fuzz::Transcript whole =
      Driver(config, stream, false).run(Schedule(Schedule::whole, 0));
  const std::uint32_t seed = data[1] | static_cast<std::uint32_t>(size) << 8;
  compare(whole, Driver(config, stream, false).run(Schedule(Schedule::random, seed)),
          "random pieces");
  if (stream.size() <= 1024)
    compare(whole, Driver(config, stream, false).run(Schedule(Schedule::byte_by_byte, 0)),
            "byte by byte");
  return 0;
}
