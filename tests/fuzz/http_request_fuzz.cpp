// libFuzzer target: chronos/http.h reading a stream of pipelined requests with bodies, on any
// bytes, through parse_request and parse_body, as a server's on_data does.
//
// Input: one byte that sets up the parser (lenient LF, limits, fields array: see
// http_fuzz::Config::from_byte), one byte that chooses how the stream arrives (all at once, or
// in pseudo-random pieces), then the stream. Besides the sanitizers' checks, http_fuzz::Driver
// asserts the API's promises on every call: views inside the input, head_length within the
// input and the limit, consumed never beyond the input, progress or AGAIN, bounded buffering,
// a repeated AGAIN changes nothing, and after ERROR the parser stays in error. Run it with
// run_fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http_fuzz_driver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const http_fuzz::Config config = http_fuzz::Config::from_byte(data[0], /*response=*/false);
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);
  const auto kind = data[1] % 4 == 0 ? http_fuzz::Schedule::whole : http_fuzz::Schedule::random;
  http_fuzz::Driver(config, stream, /*extra_checks=*/true)
      .run(http_fuzz::Schedule(kind, data[1] >> 2));
  return 0;
}
