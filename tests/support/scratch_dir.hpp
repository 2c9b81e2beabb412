// ScratchDir: a private folder for one test (mkdtemp, mode 0700), removed with everything in it
// at scope exit. The plugin loader refuses files or folders writable by others, so plugins are
// installed in here, and configurations are written here atomically.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace chronos::test {

inline std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = "/tmp/chronos-it-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& relative) const { return path_ + "/" + relative; }

  // Creates `relative` (and its parents) as folders of mode 0700.
  std::string mkdir(const std::string& relative) const {
    const std::filesystem::path full = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(full);
    for (std::filesystem::path p = full; p.string().size() > path_.size(); p = p.parent_path())
      ::chmod(p.c_str(), 0700);
    return full.string();
  }

  // Writes `text` to `relative` atomically (a temporary file in the same folder, then rename),
  // so a reload never reads half a file. Returns the full path.
  std::string write(const std::string& relative, const std::string& text,
                    mode_t mode = 0600) const {
    return replace(relative, ".tmp-write", mode, [&](const std::string& tmp) {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << text;
      if (!out) throw std::runtime_error("cannot write " + tmp);
    });
  }

  // Copies the plugin `source` to `relative` with `mode`, atomically too: the way a deploy
  // replaces a plugin under a running server. Returns the full path.
  std::string install_plugin(const std::string& source, const std::string& relative,
                             mode_t mode = 0755) const {
    return replace(relative, ".tmp-install", mode, [&](const std::string& tmp) {
      std::filesystem::copy_file(source, tmp, std::filesystem::copy_options::overwrite_existing);
    });
  }

 private:
  // Fills a temporary file next to `relative` with `fill`, gives it `mode` and renames it over
  // `relative`. Returns the full path.
  template <class Fill>
  std::string replace(const std::string& relative, const char* suffix, mode_t mode,
                      Fill fill) const {
    const std::string full = (*this) / relative;
    make_parent(full);
    const std::string tmp = full + suffix;
    fill(tmp);
    ::chmod(tmp.c_str(), mode);
    if (::rename(tmp.c_str(), full.c_str()) != 0)
      throw std::runtime_error("rename " + tmp + ": " + std::strerror(errno));
    return full;
  }

  void make_parent(const std::string& full) const {
    const auto parent = std::filesystem::path(full).parent_path();
    if (parent.string().size() > path_.size())
      mkdir(std::filesystem::relative(parent, path_).string());
  }

  std::string path_;
};

}  // namespace chronos::test
