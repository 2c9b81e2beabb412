// Address checks for listeners: inet_pton decides what is an IPv4 or IPv6 address.
#include "config/Address.hpp"

#include <arpa/inet.h>

#include "config/Scalars.hpp"

namespace chronos::config {

bool split_address(const std::string& text, std::string& canonical, std::string& problem) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    problem = "missing ':port'";
    return false;
  }
  std::string host = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  const bool v6 = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (v6) host = host.substr(1, host.size() - 2);
  unsigned char bytes[sizeof(in6_addr)];
  if (inet_pton(v6 ? AF_INET6 : AF_INET, host.c_str(), bytes) != 1) {
    problem = v6 ? "not an IPv6 address" : "expected IPv4 a.b.c.d:port or [IPv6]:port";
    return false;
  }
  if (!all_of_chars(port, "0123456789") || port.size() > 5 || std::stoul(port) > 65535) {
    problem = "the port must be a number from 0 to 65535";
    return false;
  }
  char host_text[INET6_ADDRSTRLEN];
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, host_text, sizeof host_text);
  canonical = (v6 ? '[' + std::string(host_text) + ']' : std::string(host_text)) + ':' +
              std::to_string(std::stoul(port));
  return true;
}

}  // namespace chronos::config
