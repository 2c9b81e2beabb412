// A reactor's side of listener reconfiguration (bind and live reload) and the deadlines it and
// the connections leave behind: drains of connections whose plugin was replaced, idle timeouts,
// back-offs.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "PluginInstance.hpp"
#include "reactor/Reactor.hpp"

namespace chronos {
namespace ev = conn_event;

void Reactor::adopt(const ListenerSet::Listeners& live, const ListenerSet::Listeners& retired) {
  std::vector<std::unique_ptr<Acceptor>> next;
  for (const auto& listener : live) {
    std::shared_ptr<const Fd> socket = listener->socket.lock();
    if (!socket) continue;  // a later reload removed it already, or the stop began
    // The same socket as before (a kept listener): the same registration and accept state.
    const auto same = std::find_if(acceptors_.begin(), acceptors_.end(),
                                   [&](const auto& a) { return a && a->socket == socket; });
    if (same != acceptors_.end()) {
      next.push_back(std::move(*same));
      next.back()->listener = listener;
      continue;
    }
    auto a = std::make_unique<Acceptor>();
    a->listener = listener;
    a->socket = std::move(socket);
    try {
      Acceptor& acceptor = *a;
      a->watch = Watchers::Registration(
          watchers_, watchers_.add(
                         a->socket->get(), [this, &acceptor] { accept_all(acceptor); },
                         Watchers::During::running, Watchers::Wake::one));
    } catch (const std::system_error& e) {  // epoll is out of memory: this reactor cannot accept
      shared_.log.error("listener {}: {}", listener->config.name, e.what());
      continue;
    }
    next.push_back(std::move(a));
  }
  acceptors_ = std::move(next);  // the ones left behind unregister and let go of their sockets
  live_ = live;
  apply_caps();
  schedule_drains(retired);
  // A kept socket may have connections waiting from before; edge-triggered, so look now.
  for (const auto& a : acceptors_)
    if (running_ && a->accept_pending) accept_all(*a);
}

// Each live listener's max_active count and this reactor's share of its cap (0: automatic, see
// ListenerConfig): the cap is split between the reactors, each keeping at least one, so that
// counting needs no line shared between reactors. A cap that grew admits waiting connections.
void Reactor::apply_caps() {
  std::size_t pool_listeners = 0;
  for (const auto& a : acceptors_)
    pool_listeners += a->listener->config.execution == Execution::pool;
  const std::size_t automatic =
      pool_listeners > 1 ? std::max<std::size_t>(shared_.workers - 1, 1) : ActiveJobs::kNoCap;
  const std::size_t reactors = shared_.all.size();
  for (const auto& a : acceptors_) {
    const ListenerConfig& config = a->listener->config;
    const std::size_t cap = config.max_active ? config.max_active : automatic;
    const std::size_t share =
        cap == ActiveJobs::kNoCap ? cap : cap / reactors + (index_ < cap % reactors ? 1 : 0);
    a->active = &active_.of(config.name);
    a->active->set_cap(std::max<std::size_t>(share, 1));
  }
  admit_waiting(false);
}

// This reactor's connections whose plugin was replaced are closed after their listener's
// drain_timeout_ms.
void Reactor::schedule_drains(const ListenerSet::Listeners& retired) {
  const std::int64_t now = now_ms();
  for (std::uint32_t i = 0; i < table_.used(); ++i) {
    ConnectionSlot& c = table_.at(i);
    if (c.state.load(std::memory_order_relaxed) & ev::kClosed) continue;
    // Which listener was it accepted under? Compared by address only: `retired` keeps them alive.
    const ListenerState* was = nullptr;
    for (const auto& old : retired)
      if (old.get() == c.listener_id) was = old.get();
    if (!was) continue;
    std::uint32_t drain_ms = 0;
    bool replaced = true;
    for (const auto& l : live_)
      if (l->config.name == was->config.name) {
        drain_ms = l->config.drain_timeout_ms;
        replaced = l->plugin.get() != c.plugin_id;
      }
    if (drain_ms == 0 && replaced) drain_ms = was->config.drain_timeout_ms;  // listener removed
    if (drain_ms != 0 && replaced) timers_.add({now + drain_ms, Timers::Kind::drain, c.handle()});
  }
}

void Reactor::on_timer(const Timers::Deadline& due) {
  if (due.kind == Timers::Kind::accept_backoff) {
    resume_accepting();  // a back-off has ended
    return;
  }
  ConnectionSlot* c = table_.find(due.subject);
  if (!c || (c->state.load(std::memory_order_relaxed) & ev::kClosed)) return;
  if (due.kind == Timers::Kind::drain) {
    Counters::add(shared_.counters.drained);
    notify(*c, ev::kClose);
    return;
  }
  const std::int64_t timeout = c->idle_timeout_ms;
  const std::int64_t last = c->last_active_ms.load(std::memory_order_relaxed);
  if (now_ms() - last >= timeout) {
    Counters::add(shared_.counters.idle_closed);
    notify(*c, ev::kClose);
  } else {
    timers_.add({last + timeout, Timers::Kind::idle, due.subject});  // active meanwhile
  }
}

}  // namespace chronos
