// Listener reconfiguration (bind and live reload) and the deadlines it and the connections
// leave behind: drains of connections whose plugin was replaced, idle timeouts, back-offs.
#include <algorithm>

#include "PluginInstance.hpp"
#include "reactor/Scheduler.hpp"

namespace chronos {
namespace ev = conn_event;

void Scheduler::bind(const PluginLookup& lookup) { reconfigure(config_.listeners, lookup); }

void Scheduler::reconfigure(const std::vector<ListenerConfig>& configs,
                            const PluginLookup& lookup) {
  ListenerSet::Plan plan =
      listeners_.prepare(configs, lookup, watchers_, on_acceptable_, config_.listen_socket);
  const ListenerSet::Listeners retired =
      listeners_.commit(std::move(plan), watchers_, on_acceptable_);
  bound_ = true;
  apply_caps();
  schedule_drains(retired);
  // A kept socket may have connections waiting from before; edge-triggered, so look now.
  for (const auto& l : listeners_.all())
    if (running_ && l->accept_pending) accept_all(*l);
}

// Each live listener's max_active count and cap (0: automatic, see ListenerConfig), and its
// names for the watchdog. A cap that grew admits waiting connections at once.
void Scheduler::apply_caps() {
  std::size_t pool_listeners = 0;
  for (const auto& l : listeners_.all()) pool_listeners += l->config.execution == Execution::pool;
  const std::size_t automatic =
      pool_listeners > 1 ? std::max<std::size_t>(workers_ - 1, 1) : ActiveJobs::kNoCap;
  for (const auto& l : listeners_.all()) {
    l->active = &active_.of(l->config.name);
    l->active->set_cap(l->config.max_active ? l->config.max_active : automatic);
    l->names = names_for(l->config);
  }
  admit_waiting(false);
}

const HandlerNames* Scheduler::names_for(const ListenerConfig& listener) {
  for (const HandlerNames& n : names_)
    if (n.listener == listener.name && n.plugin == listener.plugin) return &n;
  return &names_.emplace_back(HandlerNames{listener.name, listener.plugin});
}

// Connections whose plugin was replaced are closed after their listener's drain_timeout_ms.
void Scheduler::schedule_drains(const ListenerSet::Listeners& retired) {
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
    for (const auto& l : listeners_.all())
      if (l->config.name == was->config.name) {
        drain_ms = l->config.drain_timeout_ms;
        replaced = l->plugin.get() != c.plugin_id;
      }
    if (drain_ms == 0 && replaced) drain_ms = was->config.drain_timeout_ms;  // listener removed
    if (drain_ms != 0 && replaced) timers_.add({now + drain_ms, Timers::Kind::drain, c.handle()});
  }
}

void Scheduler::on_timer(const Timers::Deadline& due) {
  if (due.kind == Timers::Kind::accept_backoff) {
    resume_accepting();  // a back-off has ended
    return;
  }
  ConnectionSlot* c = table_.find(due.subject);
  if (!c || (c->state.load(std::memory_order_relaxed) & ev::kClosed)) return;
  if (due.kind == Timers::Kind::drain) {
    Counters::add(counters_.drained);
    notify(*c, ev::kClose);
    return;
  }
  const std::int64_t timeout = c->idle_timeout_ms;
  const std::int64_t last = c->last_active_ms.load(std::memory_order_relaxed);
  if (now_ms() - last >= timeout) {
    Counters::add(counters_.idle_closed);
    notify(*c, ev::kClose);
  } else {
    timers_.add({last + timeout, Timers::Kind::idle, due.subject});  // active meanwhile
  }
}

}  // namespace chronos
