// Reading a configuration: the file's text, and where in it each error belongs. Every error is
// collected (not thrown) so that `chronos -t` shows a user all of them at once.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "chronos/Config.hpp"

namespace chronos::config {

// A key of a map that the tables know, with its value.
struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

// Reads a whole file, if it is a regular file of at most kMaxConfigBytes; on failure returns
// false with a message that says why ("is a FIFO, not a regular file").
bool read_file(const std::string& path, std::string& text, std::string& problem);

// Locates nodes of one file at FILE:LINE:COLUMN (1-based) and collects the errors found there.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  SourceMark at(const YAML::Mark& mark) const;
  SourceMark mark(const YAML::Node& node) const;
  SourceMark value_mark(const Entry& entry) const;
  SourceMark exception_mark(const YAML::Exception& e) const;

  void error(const SourceMark& at, std::string message);
  std::size_t error_count() const noexcept { return errors_.size(); }
  // Every error so far, sorted by position (errors at one position keep their order).
  std::vector<ConfigError> take_sorted_errors();

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

}  // namespace chronos::config
