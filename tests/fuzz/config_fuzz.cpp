// libFuzzer target: plugin_config.h on any text. The sanitizers catch reads past the text
// (libFuzzer hands over a buffer of exactly `size` bytes); the checks catch a result that
// depends on the size of the caller's buffer.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "chronos/plugin_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const char* json = reinterpret_cast<const char*>(data);
  for (const char* key : {"body", "a", "", "\xc3\xa9"}) {
    const long n = chronos_config_string(json, size, key, nullptr, 0);
    if (n >= 0) {
      std::vector<char> big(static_cast<std::size_t>(n) + 1, 'x');
      char small[3] = {'x', 'x', 'x'};
      if (chronos_config_string(json, size, key, big.data(), big.size()) != n) std::abort();
      if (chronos_config_string(json, size, key, small, sizeof small) != n) std::abort();
      if (big[static_cast<std::size_t>(n)] != '\0') std::abort();
      if (std::memcmp(small, big.data(), std::min<std::size_t>(2, static_cast<std::size_t>(n))))
        std::abort();
    } else if (n != CHRONOS_CONFIG_MISSING && n != CHRONOS_CONFIG_INVALID) {
      std::abort();
    }
    long long value = 0;
    const int r = chronos_config_int(json, size, key, &value);
    if (r != 0 && r != CHRONOS_CONFIG_MISSING && r != CHRONOS_CONFIG_INVALID) std::abort();
  }
  return 0;
}
