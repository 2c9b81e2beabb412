// libFuzzer target: chronos/http.h reading a stream of responses with bodies, on any bytes,
// through parse_response and parse_body, as a client or a proxy does.
//
// Input: one byte that chooses the request's method (bits 0-1: GET, HEAD, CONNECT, POST; it
// decides the framing of some responses) and sets up the parser (see
// http_fuzz::Config::from_byte), one byte that chooses how the stream arrives (all at once, or
// in pseudo-random pieces), then the stream. Every response in the stream answers a request
// with that method. The checks are http_fuzz::Driver's, as in http_request_fuzz. Run it with
// run_fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http_fuzz_driver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const http_fuzz::Config config = http_fuzz::Config::from_byte(data[0], /*response=*/true);
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);
  const auto kind = data[1] % 4 == 0 ? http_fuzz::Schedule::whole : http_fuzz::Schedule::random;
  http_fuzz::Driver(config, stream, /*extra_checks=*/true)
      .run(http_fuzz::Schedule(kind, data[1] >> 2));
  return 0;
}
