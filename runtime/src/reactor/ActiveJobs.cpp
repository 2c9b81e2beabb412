#include "reactor/ActiveJobs.hpp"

namespace chronos {

ActiveJobs::ActiveJobs(std::string listener, std::size_t threads, Doorbell& doorbell)
    : finished_(std::make_unique<Finished[]>(threads)),
      threads_(threads),
      doorbell_(doorbell),
      listener_(std::move(listener)) {}

bool ActiveJobs::try_start(bool force) noexcept {
  // finished_seen_ only lags the true total, so this overestimates what is active: room here
  // is room indeed, and only a full look needs the fold.
  if (!force && started_ - finished_seen_ >= cap_) {
    finished_seen_ = fold();
    if (started_ - finished_seen_ >= cap_) return false;
  }
  ++started_;
  return true;
}

std::uint64_t ActiveJobs::fold() const noexcept {
  std::uint64_t total = 0;
  // Seq_cst: room_after_asking's Dekker needs these loads after its store of wanted_ in the
  // single total order (a plain load on x86); try_start would do with relaxed ones.
  for (std::size_t i = 0; i < threads_; ++i)
    total += finished_[i].count.load(std::memory_order_seq_cst);
  return total;
}

// At the cap with connections waiting: ask the owners for the doorbell, then look once more.
bool ActiveJobs::room_after_asking() noexcept {
  // Seq_cst store, then fold()'s seq_cst loads; finish() does a seq_cst RMW of its count, then
  // a seq_cst load of wanted_. In the total order one of them comes first: either our fold
  // sees that job finished, or that owner sees the request and rings. No wake-up is lost. If we
  // find room the flag stays up: at most one spurious ring.
  wanted_.store(true, std::memory_order_seq_cst);
  return try_start();
}

void ActiveJobs::finish(std::size_t thread) noexcept {
  // Our own line, uncontended (the reactor reads it only at the cap): one locked add on x86,
  // the price of the fence the Dekker pair above needs.
  finished_[thread].count.fetch_add(1, std::memory_order_seq_cst);
  // Relaxed exchange: the eventfd carries the ordering; the exchange makes one ringer of many.
  if (wanted_.load(std::memory_order_seq_cst) && wanted_.exchange(false, std::memory_order_relaxed))
    doorbell_.ring();
}

ActiveJobs& ActiveJobsRegistry::of(const std::string& listener) {
  for (const auto& a : all_)
    if (a->listener() == listener) return *a;
  all_.push_back(std::make_unique<ActiveJobs>(listener, threads_, doorbell_));
  return *all_.back();
}

}  // namespace chronos
