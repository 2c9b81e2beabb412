// Reading a configuration file, and locating what is wrong in it.
#include "config/Reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace chronos::config {

bool read_file(const std::string& path, std::string& text, std::string& problem) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    problem = std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    problem = "is a directory";
    return false;
  }
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) problem = std::strerror(errno);
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return problem.empty();
}

SourceMark Reader::mark(const YAML::Node& node) const {
  const YAML::Mark m = node.Mark();
  if (m.is_null()) return {file_, 1, 1};
  return {file_, m.line + 1, m.column + 1};
}

// yaml-cpp puts an empty value's mark at the next token, so point at its key instead.
SourceMark Reader::value_mark(const Entry& entry) const {
  return mark(entry.value.IsNull() ? entry.key_node : entry.value);
}

SourceMark Reader::exception_mark(const YAML::Exception& e) const {
  if (e.mark.is_null()) return {file_, 1, 1};
  return {file_, e.mark.line + 1, e.mark.column + 1};
}

void Reader::error(const SourceMark& at, std::string message) {
  errors_.push_back({at, std::move(message)});
}

std::vector<ConfigError> Reader::take_sorted_errors() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
    return std::pair(a.mark.line, a.mark.column) < std::pair(b.mark.line, b.mark.column);
  });
  return std::move(errors_);
}

}  // namespace chronos::config
