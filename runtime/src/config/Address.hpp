// A listener's address as the configuration spells it: "a.b.c.d:port" or "[v6]:port".
#pragma once

#include <string>

namespace chronos::config {

// Checks `text` and gives its canonical form (so that two spellings of one address compare
// equal), or false with a message that says what is wrong.
bool split_address(const std::string& text, std::string& canonical, std::string& problem);

}  // namespace chronos::config
