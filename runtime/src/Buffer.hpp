// Buffer: a byte FIFO for what one connection could not finish with at once: the partial
// message the plugin has not consumed yet, or the output the socket did not take. Bytes are
// appended at the back and consumed from the front. The common case (a whole request in, a
// whole reply out) never reaches a Buffer of a connection: it is read into and written from
// the serving thread's scratch (ConnectionIo.cpp), so storage starts at the size first asked
// for, grows by doubling, and is given back as soon as the FIFO is empty (release()).
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
  std::size_t capacity() const noexcept { return capacity_; }

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
    if (begin_ == end_) begin_ = end_ = 0;  // everything consumed: start over at the front
  }

  // Drops the contents and keeps the storage, unless it grew past `keep` bytes (a burst): a
  // thread's scratch stays allocated, at a bounded size.
  void clear(std::size_t keep) noexcept {
    begin_ = end_ = 0;
    if (capacity_ > keep) release();
  }

  // Drops the contents and frees the storage.
  void release() noexcept {
    storage_.reset();
    capacity_ = begin_ = end_ = 0;
  }

  // Reallocates to fit the contents when they use under half the storage (a partial message
  // left behind by a large read), so that a waiting connection holds what it waits on.
  void shrink_to_fit() {
    if (size() * 2 >= capacity_) return;
    Buffer exact;
    exact.append(data(), size());
    *this = std::move(exact);
  }

 private:
  void make_room(std::size_t n) {
    const std::size_t used = size();
    if (capacity_ - used >= n && begin_ >= used) {  // enough space once compacted
      std::memmove(storage_.get(), data(), used);
    } else {
      // First use: exactly what is asked for (a partial message, the unsent rest of a reply).
      std::size_t cap = capacity_ ? capacity_ : n;
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
