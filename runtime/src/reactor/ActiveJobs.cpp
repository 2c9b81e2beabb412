#include "reactor/ActiveJobs.hpp"

namespace chronos {

JobsFinished::JobsFinished(std::size_t threads, Doorbell& doorbell)
    : lines_(std::make_unique<Line[]>(threads)), threads_(threads), doorbell_(doorbell) {}

std::uint64_t JobsFinished::fold() const noexcept {
  std::uint64_t total = 0;
  // Seq_cst: ask()'s Dekker pair with finish() needs these loads after its store of wanted_ in
  // the single total order (still a plain load on x86); try_start alone would do with relaxed.
  for (std::size_t i = 0; i < threads_; ++i)
    total += lines_[i].count.load(std::memory_order_seq_cst);
  return total;
}

void JobsFinished::ask() noexcept {
  // Seq_cst store, then fold()'s seq_cst loads; finish() does a seq_cst RMW of its count, then
  // a seq_cst load of wanted_. In the single total order one of them comes first: either the
  // reactor's fold sees that job finished, or that owner sees the request and rings. No wake-up
  // is lost. If the fold finds room the flag stays up: at most one spurious ring.
  wanted_.store(true, std::memory_order_seq_cst);
}

void JobsFinished::finish(std::size_t thread) noexcept {
  CHRONOS_ASSERT(thread < threads_);
  // Seq_cst RMW of our own line (the reactor reads it only at the cap, so it stays here): one
  // locked add on x86, the price of the StoreLoad order the Dekker pair in ask() needs.
  lines_[thread].count.fetch_add(1, std::memory_order_seq_cst);
  // Seq_cst load: the other half of that pair. A plain load on x86 of a line that is written
  // only while connections wait, so it stays shared in every cache. Relaxed exchange: it only
  // picks one ringer of many; the eventfd write and read order the reactor after us.
  if (wanted_.load(std::memory_order_seq_cst) && wanted_.exchange(false, std::memory_order_relaxed))
    doorbell_.ring();
}

// At the cap as last seen: reads every thread's finished count.
bool ActiveJobs::room_after_fold() noexcept {
  const std::uint64_t folded = finished_.fold();
  // Every count only grows, and a job is started before it can finish.
  CHRONOS_ASSERT(folded >= finished_seen_ && folded <= started_);
  finished_seen_ = folded;
  return started_ - finished_seen_ < cap_;
}

// At the cap with connections waiting: ask the owners for the doorbell, then look once more.
bool ActiveJobs::room_after_asking() noexcept {
  finished_.ask();
  return try_start();
}

ActiveJobs& ActiveJobsRegistry::of(const std::string& listener) {
  for (const auto& a : all_)
    if (a->listener() == listener) return *a;
  all_.push_back(std::make_unique<ActiveJobs>(listener, threads_, doorbell_));
  return *all_.back();
}

}  // namespace chronos
