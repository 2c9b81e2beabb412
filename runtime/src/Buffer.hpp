// Buffer: a byte FIFO for one connection's input or output. Bytes are appended at the back and
// consumed from the front; storage is reused, and shrunk after a large burst so an idle
// connection does not pin megabytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace chronos {

class Buffer {
 public:
  const std::uint8_t* data() const noexcept { return storage_.get() + begin_; }
  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return begin_ == end_; }

  void append(const void* bytes, std::size_t n) {
    std::memcpy(prepare(n), bytes, n);
    end_ += n;
  }

  // Room for at least `n` more bytes at the back; commit() what was written there.
  std::uint8_t* prepare(std::size_t n) {
    if (capacity_ - end_ < n) make_room(n);
    return storage_.get() + end_;
  }
  std::size_t room() const noexcept { return capacity_ - end_; }
  void commit(std::size_t n) noexcept { end_ += n; }

  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;  // the common case: everything consumed, start over
  }

  // Drops the contents; frees the storage if it grew past `keep` bytes.
  void clear(std::size_t keep = kKeep) noexcept {
    begin_ = end_ = 0;
    if (capacity_ > keep) {
      storage_.reset();
      capacity_ = 0;
    }
  }

  // After a burst, give large storage back once it is empty again.
  void shrink_if_idle() noexcept {
    if (empty() && capacity_ > kKeep) clear();
  }

 private:
  static constexpr std::size_t kKeep = 64 * 1024;

  void make_room(std::size_t n) {
    const std::size_t used = size();
    if (capacity_ - used >= n && begin_ >= used) {  // enough space once compacted
      std::memmove(storage_.get(), data(), used);
    } else {
      std::size_t cap = capacity_ ? capacity_ : 4096;
      while (cap - used < n) cap *= 2;
      // make_unique_for_overwrite: the bytes are written before they are read, no zeroing.
      auto bigger = std::make_unique_for_overwrite<std::uint8_t[]>(cap);
      if (used) std::memcpy(bigger.get(), data(), used);
      storage_ = std::move(bigger);
      capacity_ = cap;
    }
    begin_ = 0;
    end_ = used;
  }

  std::unique_ptr<std::uint8_t[]> storage_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace chronos
