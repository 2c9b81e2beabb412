// Reading a configuration file, and locating what is wrong in it.
#include "config/Reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "chronos/Fd.hpp"
#include "config/Wording.hpp"

namespace chronos::config {

namespace {

const std::string kAtMost = "a configuration may have at most " + mebibytes(kMaxConfigBytes);

// What a file that is not a regular one is, for "is a FIFO, not a regular file".
const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

// Reads at most kMaxConfigBytes + 1 bytes: one more than allowed shows a file that grew.
bool read_bounded(int fd, std::string& text, std::string& problem) {
  char buffer[65536];
  while (text.size() <= kMaxConfigBytes) {
    const std::size_t want = std::min(sizeof buffer, kMaxConfigBytes + 1 - text.size());
    const ssize_t n = ::read(fd, buffer, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) problem = std::strerror(errno);
    if (n <= 0) return problem.empty();
    text.append(buffer, static_cast<std::size_t>(n));
  }
  problem = "grew past " + mebibytes(kMaxConfigBytes) + " while it was read; " + kAtMost;
  return false;
}

}  // namespace

// Only a regular file is read, so a FIFO or a device can neither block the caller (O_NONBLOCK:
// opening a FIFO without a writer returns at once) nor feed it without end.
bool read_file(const std::string& path, std::string& text, std::string& problem) {
  const Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0) {
    problem = std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    problem = std::string("is ") + file_kind(st.st_mode) + ", not a regular file";
    return false;
  }
  if (static_cast<std::uint64_t>(st.st_size) > kMaxConfigBytes) {
    problem = "is " + std::to_string(st.st_size) + " bytes; " + kAtMost;
    return false;
  }
  text.reserve(static_cast<std::size_t>(st.st_size));
  return read_bounded(fd.get(), text, problem);
}

SourceMark Reader::at(const YAML::Mark& mark) const {
  if (mark.is_null()) return {file_, 1, 1};
  return {file_, mark.line + 1, mark.column + 1};
}

SourceMark Reader::mark(const YAML::Node& node) const { return at(node.Mark()); }

// yaml-cpp puts an empty value's mark at the next token, so point at its key instead.
SourceMark Reader::value_mark(const Entry& entry) const {
  return mark(entry.value.IsNull() ? entry.key_node : entry.value);
}

SourceMark Reader::exception_mark(const YAML::Exception& e) const { return at(e.mark); }

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
