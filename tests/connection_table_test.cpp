// The runtime's per-connection storage (runtime/src): Buffer, the byte FIFO behind each
// connection's input and output, and ConnectionTable, the slots that connection handles name.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "Buffer.hpp"
#include "ConnectionSlot.hpp"

using chronos::Buffer;
using chronos::ConnectionSlot;
using chronos::ConnectionTable;

namespace {

std::string contents(const Buffer& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

void append(Buffer& b, const std::string& s) { b.append(s.data(), s.size()); }

}  // namespace

TEST_CASE("Buffer: bytes come out in the order they went in, across growth", "[buffer]") {
  Buffer b;
  CHECK(b.empty());
  std::string expected;
  for (int i = 0; i < 2000;
       ++i) {  // 2000 x 10 bytes: grows from its first 10 bytes many times over
    const std::string piece = "piece" + std::to_string(10000 + i).substr(1);
    append(b, piece);
    expected += piece;
  }
  CHECK(b.size() == expected.size());
  CHECK(contents(b) == expected);
  b.consume(5);
  CHECK(contents(b) == expected.substr(5));
  b.consume(b.size());
  CHECK(b.empty());
}

TEST_CASE("Buffer: prepare and commit write in place; compaction keeps what is unread",
          "[buffer]") {
  Buffer b;
  std::uint8_t* room = b.prepare(4096);
  REQUIRE(b.room() >= 4096);
  for (int i = 0; i < 4000; ++i) room[i] = static_cast<std::uint8_t>('a' + i % 26);
  b.commit(4000);
  b.consume(3990);  // 10 unread bytes at the back of the storage
  const std::string tail = contents(b);
  REQUIRE(tail.size() == 10);
  // 200 more do not fit behind them, but do once the 10 move to the front: no reallocation
  // is needed, and the unread bytes survive the move.
  std::uint8_t* more = b.prepare(200);
  for (int i = 0; i < 200; ++i) more[i] = '#';
  b.commit(200);
  CHECK(contents(b) == tail + std::string(200, '#'));
}

TEST_CASE("Buffer: consuming everything starts over at the front", "[buffer]") {
  Buffer b;
  append(b, std::string(3000, 'x'));
  const std::size_t room_before = b.room();
  b.consume(3000);
  CHECK(b.empty());
  CHECK(b.room() > room_before);  // the whole storage is free again, not just the rest
}

TEST_CASE("Buffer: storage starts at the size first asked for and is freed by release",
          "[buffer]") {
  Buffer b;
  CHECK(b.capacity() == 0);          // a connection with nothing left over holds no storage
  append(b, std::string(100, 'p'));  // a partial message: kept at its size, not a page
  CHECK(b.capacity() == 100);
  append(b, std::string(50, 'q'));  // more of it: grows by doubling
  CHECK(b.capacity() == 200);
  CHECK(contents(b) == std::string(100, 'p') + std::string(50, 'q'));
  b.release();
  CHECK(b.empty());
  CHECK(b.capacity() == 0);
}

TEST_CASE("Buffer: shrink_to_fit keeps a small tail of a large read, at its size", "[buffer]") {
  Buffer b;
  append(b, std::string(65536, 'r') + "tail");
  b.consume(65536);
  b.shrink_to_fit();
  CHECK(contents(b) == "tail");
  CHECK(b.capacity() == 4);
  b.shrink_to_fit();  // already fits: nothing moves
  CHECK(b.capacity() == 4);
}

TEST_CASE("Buffer: clear keeps small storage and frees a burst's", "[buffer]") {
  Buffer b;
  append(b, "small");
  b.clear(4096);
  CHECK(b.empty());
  CHECK(b.capacity() == 5);
  append(b, std::string(1 << 20, 'y'));  // a 1 MiB burst
  b.clear(4096);
  CHECK(b.capacity() == 0);  // an idle connection does not pin the burst's megabyte
}

TEST_CASE("ConnectionSlot: two cache lines, nothing else per idle connection", "[table]") {
  // The layout claims of ConnectionSlot.hpp, stated where a reader of the tests looks too.
  STATIC_REQUIRE(sizeof(ConnectionSlot) == 128);
  ConnectionSlot c;
  CHECK(c.spill == nullptr);
  CHECK(reinterpret_cast<std::uintptr_t>(&c) % 64 == 0);
}

TEST_CASE("connection handles carry an index and a generation", "[table]") {
  const std::uint64_t h = chronos::make_handle(7, 3);
  CHECK(chronos::handle_index(h) == 7);
  CHECK(chronos::handle_generation(h) == 3);
  CHECK(chronos::make_handle(0xffffffffu, 0xffffffffu) == ~std::uint64_t{0});
}

TEST_CASE("ConnectionTable: slots are handed out in order and reused after release", "[table]") {
  ConnectionTable table;
  ConnectionSlot* a = table.allocate();
  ConnectionSlot* b = table.allocate();
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  CHECK(a->index == 0);
  CHECK(b->index == 1);
  CHECK(table.used() == 2);
  table.release(a->index);
  ConnectionSlot* again = table.allocate();
  CHECK(again == a);  // the freed slot, not a new one
  CHECK(table.used() == 2);
}

TEST_CASE("ConnectionTable: a handle finds its slot only while the generation matches", "[table]") {
  ConnectionTable table;
  ConnectionSlot* c = table.allocate();
  REQUIRE(c != nullptr);
  c->generation.store(1);
  const std::uint64_t first = c->handle();
  CHECK(table.find(first) == c);
  // The slot is reused for another connection: the old handle no longer reaches it.
  c->generation.store(2);
  CHECK(table.find(first) == nullptr);
  CHECK(table.find(c->handle()) == c);
  // Indices that were never handed out, or beyond the table, find nothing.
  CHECK(table.find(chronos::make_handle(5000, 1)) == nullptr);
  CHECK(table.find(chronos::make_handle(ConnectionTable::kChunk * ConnectionTable::kMaxChunks,
                                        1)) == nullptr);
}

TEST_CASE("ConnectionTable: slots never move when the table grows", "[table]") {
  ConnectionTable table;
  std::vector<ConnectionSlot*> slots;
  for (std::uint32_t i = 0; i < 3 * ConnectionTable::kChunk + 5; ++i) {
    ConnectionSlot* c = table.allocate();
    REQUIRE(c != nullptr);
    c->generation.store(i + 1);
    slots.push_back(c);
  }
  for (std::uint32_t i = 0; i < slots.size(); ++i) {
    CHECK(slots[i]->index == i);
    CHECK(&table.at(i) == slots[i]);
    CHECK(table.find(chronos::make_handle(i, i + 1)) == slots[i]);
  }
}

TEST_CASE("ConnectionTable: slots released by other threads come back exactly once",
          "[table][concurrency]") {
  // The reactor allocates; whichever thread closes a connection releases its slot.
  ConnectionTable table;
  constexpr int kRounds = 2000;
  std::vector<std::uint32_t> first(64);
  for (auto& index : first) index = table.allocate()->index;
  std::thread closer([&] {
    for (const std::uint32_t index : first) table.release(index);
  });
  closer.join();
  std::vector<int> seen(table.used(), 0);
  for (int i = 0; i < kRounds; ++i) {
    ConnectionSlot* c = table.allocate();
    REQUIRE(c != nullptr);
    if (c->index < seen.size()) ++seen[c->index];
  }
  for (const int n : seen) CHECK(n == 1);  // each released slot reused once, then new ones
  CHECK(table.used() == 64 + kRounds - 64);
}
