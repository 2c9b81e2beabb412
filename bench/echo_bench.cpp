// echo_bench: 64-byte ping-pong echo over loopback against Chronos (pool and inline execution)
// and peers (libevent with bufferevents, libevent with raw events, a plain epoll loop), in one
// run on one machine. See bench/README.md for the method.
//
// Each server runs in its own child process (`echo_bench --serve=KIND`, fork + exec of
// /proc/self/exe) pinned to one CPU; the load generator (this process, one epoll thread) is
// pinned to another. Every round runs every server once, in a rotated order, so a noisy phase
// of the machine hits all of them alike. A run disturbed by other work on the pinned CPUs is
// repeated. The tables give medians across rounds, then per-round ratios to libevent of the
// throughput and of the server's CPU time per message.

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "echo/child.hpp"
#include "echo/loadgen.hpp"
#include "echo/servers.hpp"

namespace {

using namespace echo_bench;

struct Options {
  std::size_t connections = 50;
  std::size_t message_bytes = 64;
  double seconds = 10;
  double warmup = 1;
  int rounds = 3;
  std::size_t workers = 0;  // chronos-pool workers; 0 = Chronos's default (one per allowed CPU)
  std::vector<std::string> servers;
  int server_cpu = 0, client_cpu = 1;
  bool pin = true;
  bool busy_poll = false;
  double noisy_pct = 20;  // a run with more "other load" than this is repeated ...
  int retries = 2;        // ... at most this many times
  int nice = -20;         // the priority of the generator and the servers (inherited); see --nice
  std::uint16_t external_port = 0;  // --port: measure a server that is already running
  pid_t external_pid = 0;           // --server-pid: its process, for the CPU columns
};

void usage(FILE* out) {
  std::fprintf(out,
               "usage: echo_bench [options]\n"
               "  --connections N   concurrent connections, one message in flight each (50)\n"
               "  --size B          message size in bytes (64)\n"
               "  --seconds S       measured seconds per server per round (10)\n"
               "  --warmup S        unmeasured seconds before each window (1)\n"
               "  --rounds R        rounds; the server order rotates each round (3)\n"
               "  --quick           smoke test: --seconds 2 --warmup 0.5 --rounds 1 --retries 0\n"
               "  --workers N       chronos pool workers, 0 = auto: one per CPU the server may\n"
               "                    use, so 1 when pinned (0)\n"
               "  --servers LIST    comma-separated, from: ");
  for (const auto& k : server_kinds()) std::fprintf(out, "%s ", k.c_str());
  std::fprintf(out,
               "(all)\n"
               "  --server-cpu C    CPU for the server processes (0)\n"
               "  --client-cpu C    CPU for the load generator (1)\n"
               "  --no-pin          do not pin anything\n"
               "  --busy-poll       the load generator spins on epoll_wait(0) instead of\n"
               "                    sleeping (its CPU column then reads 100%%)\n"
               "  --noisy PCT       repeat a run whose other load (CPU time of other work on\n"
               "                    the pinned CPUs) exceeded PCT %%, keeping the quietest (20)\n"
               "  --retries N       at most N repeats per run (2; 0 = never repeat)\n"
               "  --nice N          run in a session of our own (so an autogroup of our own)\n"
               "                    at this nice value, so that other work on a shared machine\n"
               "                    steals less of the pinned CPUs; below 0 needs root, else\n"
               "                    the priority is left as is; 0 = plain run (-20)\n"
               "  --port P          measure a server already listening on 127.0.0.1:P instead\n"
               "                    (for profiling: start it with taskset -c 0 echo_bench\n"
               "                    --serve=KIND --port-file F), with\n"
               "  --server-pid PID  its process id, for the server CPU columns\n"
               "internal: --serve=KIND --port-file F [--workers N] [--lifetime S]\n");
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// ---- the child: one server -------------------------------------------------------------------

int child_main(int argc, char** argv) {
  ServeOptions serve_options;
  int lifetime = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(std::string(a) + " needs a value");
      return argv[++i];
    };
    if (a.starts_with("--serve="))
      serve_options.kind = std::string(a.substr(8));
    else if (a == "--port-file")
      serve_options.port_file = value();
    else if (a == "--workers")
      serve_options.workers = std::stoul(value());
    else if (a == "--lifetime")
      lifetime = std::stoi(value());
    else
      throw std::invalid_argument("unknown option " + std::string(a));
  }
  if (serve_options.port_file.empty()) throw std::invalid_argument("--serve needs --port-file");
  if (lifetime > 0) alarm(static_cast<unsigned>(lifetime));  // bounded, whatever the parent does
  return serve(serve_options);
}

// ---- the parent: rounds and the table --------------------------------------------------------

std::atomic<int> g_signals{0};

extern "C" void on_parent_signal(int) {
  if (g_signals.fetch_add(1) > 0) {  // a second ^C: do not wait for anything
    kill_all_children_from_signal();
    _exit(130);
  }
}

struct Run {
  bool ok = false;
  LoadResult load;
  double server_cpu_seconds = 0;  // utime + stime of the server process inside the window
  double other_cpu_seconds =
      0;                 // busy time of the CPUs we use that was neither ours nor the server's
  double other_pct = 0;  // the same, in percent of those CPUs
  std::size_t threads = 0;
  std::string error;

  double rate() const { return static_cast<double>(load.messages) / load.seconds; }
  double server_us_per_msg() const {
    return server_cpu_seconds / static_cast<double>(load.messages) * 1e6;
  }
};

// Busy time (user, nice, system, irq, softirq, steal) of the given CPUs, all if empty, in
// seconds, from /proc/stat.
double cpus_busy_seconds(const std::vector<int>& cpus) {
  FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return 0;
  char line[512];
  unsigned long long busy = 0;
  while (std::fgets(line, sizeof(line), f)) {
    int cpu = -1;
    unsigned long long user, nice, system, idle, iowait, irq, softirq, steal;
    if (cpus.empty()) {
      if (std::strncmp(line, "cpu ", 4) != 0 ||
          std::sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system,
                      &idle, &iowait, &irq, &softirq, &steal) != 8)
        continue;
    } else if (std::sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &user,
                           &nice, &system, &idle, &iowait, &irq, &softirq, &steal) != 9 ||
               std::find(cpus.begin(), cpus.end(), cpu) == cpus.end()) {
      continue;
    }
    busy += user + nice + system + irq + softirq + steal;
  }
  std::fclose(f);
  return static_cast<double>(busy) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// utime + stime of a process (all its threads) from /proc/PID/stat, in seconds.
double process_cpu_seconds(pid_t pid) {
  if (pid <= 0) return 0;
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) throw std::runtime_error("cannot read /proc/" + std::to_string(pid) + "/stat");
  char line[1024] = {};
  const bool got = std::fgets(line, sizeof(line), f) != nullptr;
  std::fclose(f);
  const char* p = got ? std::strrchr(line, ')') : nullptr;
  unsigned long long utime = 0, stime = 0;
  // After ") ": state, then fields 4..13, then utime (14) and stime (15).
  if (!p || std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                        &stime) != 2)
    throw std::runtime_error("cannot parse /proc/" + std::to_string(pid) + "/stat");
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// One measured window against a server: ours (spawned, pinned, stopped) or an external one.
Run measure(const Options& o, const std::string& kind, int server_cpu,
            const std::vector<int>& cpus) {
  Run run;
  try {
    std::optional<ServerProcess> server;
    std::uint16_t port = o.external_port;
    pid_t pid = o.external_pid;
    if (port == 0) {
      SpawnOptions spawn;
      spawn.kind = kind;
      spawn.cpu = server_cpu;
      spawn.workers = o.workers;
      spawn.lifetime_s = static_cast<int>(o.warmup + o.seconds) + 60;
      server.emplace(spawn);
      run.threads = server->threads();
      port = server->port();
      pid = server->pid();
    }
    LoadOptions load;
    load.port = port;
    load.connections = o.connections;
    load.message_bytes = o.message_bytes;
    load.warmup_seconds = o.warmup;
    load.seconds = o.seconds;
    load.busy_poll = o.busy_poll;
    double server0 = 0, busy0 = 0;
    run.load = run_load(
        load,
        [&](bool start) {
          const double server_now = process_cpu_seconds(pid);
          const double busy_now = cpus_busy_seconds(cpus);
          if (start) {
            server0 = server_now;
            busy0 = busy_now;
          } else {
            run.server_cpu_seconds = server_now - server0;
            run.other_cpu_seconds = busy_now - busy0;  // ours are subtracted below
          }
        },
        [] { return g_signals.load() != 0; });
    run.other_cpu_seconds = std::max(
        0.0, run.other_cpu_seconds - run.server_cpu_seconds - run.load.generator_cpu_seconds);
    if (server) {
      const std::string ended = server->stop();
      if (ended != "exit 0")
        std::fprintf(stderr, "echo_bench: %s did not stop cleanly (%s)\n", kind.c_str(),
                     ended.c_str());
    }
    run.ok = run.load.mismatches == 0 && run.load.messages > 0;
    if (run.load.mismatches)
      run.error = std::to_string(run.load.mismatches) + " echoes differed from the request";
    else if (run.load.messages == 0)
      run.error = "no echo completed";
  } catch (const std::exception& e) {
    if (g_signals.load()) throw;
    run.error = e.what();
  }
  return run;
}

bool pin_self(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof(set), &set) == 0;
}

Options parse(int argc, char** argv) {
  Options o;
  bool quick = false, seconds_given = false, rounds_given = false, warmup_given = false,
       retries_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(std::string(a) + " needs a value");
      return argv[++i];
    };
    if (a == "--connections")
      o.connections = std::stoul(value());
    else if (a == "--size")
      o.message_bytes = std::stoul(value());
    else if (a == "--seconds")
      o.seconds = std::stod(value()), seconds_given = true;
    else if (a == "--warmup")
      o.warmup = std::stod(value()), warmup_given = true;
    else if (a == "--rounds")
      o.rounds = std::stoi(value()), rounds_given = true;
    else if (a == "--quick")
      quick = true;
    else if (a == "--workers")
      o.workers = std::stoul(value());
    else if (a == "--servers")
      o.servers = split(value());
    else if (a == "--server-cpu")
      o.server_cpu = std::stoi(value());
    else if (a == "--client-cpu")
      o.client_cpu = std::stoi(value());
    else if (a == "--no-pin")
      o.pin = false;
    else if (a == "--busy-poll")
      o.busy_poll = true;
    else if (a == "--noisy")
      o.noisy_pct = std::stod(value());
    else if (a == "--retries")
      o.retries = std::stoi(value()), retries_given = true;
    else if (a == "--nice")
      o.nice = std::stoi(value());
    else if (a == "--port")
      o.external_port = static_cast<std::uint16_t>(std::stoul(value()));
    else if (a == "--server-pid")
      o.external_pid = static_cast<pid_t>(std::stol(value()));
    else if (a == "--help" || a == "-h") {
      usage(stdout);
      std::exit(0);
    } else {
      throw std::invalid_argument("unknown option " + std::string(a));
    }
  }
  if (quick) {
    if (!seconds_given) o.seconds = 2;
    if (!warmup_given) o.warmup = 0.5;
    if (!rounds_given) o.rounds = 1;
    if (!retries_given) o.retries = 0;
  }
  if (o.external_port) o.servers = {"external"};
  if (o.servers.empty()) o.servers = server_kinds();
  for (const auto& s : o.servers)
    if (!is_server_kind(s) && !o.external_port) throw std::invalid_argument("unknown server " + s);
  if (o.connections == 0 || o.message_bytes == 0 || o.seconds <= 0 || o.rounds <= 0 || o.warmup < 0)
    throw std::invalid_argument("--connections, --size, --seconds and --rounds must be positive");
  return o;
}

int parent_main(const Options& o);

// The scheduler shares CPU time between autogroups (one per session, when
// kernel.sched_autogroup_enabled is 1) before it looks at nice values, so on a shared machine
// a plain setpriority() does not keep other sessions' work off our CPUs. In our own session
// (see run_in_own_session) we set the autogroup's nice as well as our own. Returns what the
// header should say.
std::string raise_priority(int nice) {
  if (nice == 0) return "default priority";
  bool group = false;
  if (FILE* f = std::fopen("/proc/self/autogroup", "w")) {
    group = std::fprintf(f, "%d", nice) > 0;
    group = std::fclose(f) == 0 && group;
  }
  const bool own = setpriority(PRIO_PROCESS, 0, nice) == 0;
  if (!own) {
    std::fprintf(stderr,
                 "echo_bench: cannot set nice %d (%s); numbers may suffer from other "
                 "work on the machine\n",
                 nice, std::strerror(errno));
    return "default priority";
  }
  return "nice " + std::to_string(nice) + (group ? " (own autogroup)" : "");
}

pid_t g_driver = 0;

extern "C" void forward_signal(int sig) {
  if (g_driver > 0) ::kill(g_driver, sig);
}

// Runs the benchmark in a child in a new session (so with its own autogroup, whose priority it
// may raise without touching the caller's session); this process only forwards SIGINT and
// SIGTERM to it and returns its exit status.
int run_in_own_session(const Options& o) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return parent_main(o);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // our handler stops the servers
    if (getppid() != parent) _exit(130);
    setsid();
    const int status = parent_main(o);
    std::fflush(stdout);
    _exit(status);
  }
  g_driver = pid;
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int parent_main(const Options& o) {
  struct sigaction sa {};
  sa.sa_handler = on_parent_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  int server_cpu = -1;
  std::vector<int> cpus;  // the CPUs whose other load is reported; empty = all
  std::string placement = "not pinned";
  if (o.pin) {
    cpu_set_t allowed;
    sched_getaffinity(0, sizeof(allowed), &allowed);
    if (o.external_port) {
      // The server is someone else's: pin only ourselves (it may already be, by taskset).
      if (pin_self(o.client_cpu))
        placement = "load generator on CPU " + std::to_string(o.client_cpu) +
                    ", external server on 127.0.0.1:" + std::to_string(o.external_port);
    } else if (o.server_cpu == o.client_cpu || !CPU_ISSET(o.server_cpu, &allowed) ||
               !CPU_ISSET(o.client_cpu, &allowed) || !pin_self(o.client_cpu)) {
      std::fprintf(stderr, "echo_bench: cannot pin to CPUs %d and %d; running unpinned\n",
                   o.server_cpu, o.client_cpu);
    } else {
      server_cpu = o.server_cpu;
      cpus = {o.server_cpu, o.client_cpu};
      placement = "server on CPU " + std::to_string(o.server_cpu) + ", load generator on CPU " +
                  std::to_string(o.client_cpu);
    }
  }

  // Before any child is spawned: they inherit it.
  const std::string priority = raise_priority(o.nice);
  placement += "; " + priority;

  const double ncpus = cpus.empty() ? static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN))
                                    : static_cast<double>(cpus.size());
  std::printf(
      "echo_bench: %zu connections x %zu B ping-pong over 127.0.0.1, %.3g s per server per "
      "round (after %.3g s warm-up), %d round(s); %s; chronos workers: %s\n",
      o.connections, o.message_bytes, o.seconds, o.warmup, o.rounds, placement.c_str(),
      o.workers ? std::to_string(o.workers).c_str() : "auto");
  if (o.retries > 0)
    std::printf(
        "a run whose other load exceeds %.0f%% is repeated up to %d time(s); the quietest "
        "attempt counts\n",
        o.noisy_pct, o.retries);
  std::fflush(stdout);

  std::map<std::string, std::vector<Run>> runs;  // per server, one entry per round
  bool failed = false;
  for (int r = 0; r < o.rounds; ++r) {
    std::vector<std::string> order = o.servers;
    std::rotate(order.begin(), order.begin() + (r % static_cast<int>(order.size())), order.end());
    for (const std::string& kind : order) {
      if (g_signals.load()) throw std::runtime_error("interrupted");
      // A run during which other work took more than --noisy of our CPUs is repeated (at most
      // --retries times); the least disturbed attempt counts.
      std::optional<Run> kept;
      for (int attempt = 0; attempt <= o.retries; ++attempt) {
        Run run = measure(o, kind, server_cpu, cpus);
        if (!run.ok) {
          std::printf("round %d  %-15s FAILED: %s\n", r + 1, kind.c_str(), run.error.c_str());
          std::fflush(stdout);
          failed = true;
          if (!kept) kept = std::move(run);
          break;
        }
        const LoadResult& l = run.load;
        run.other_pct = run.other_cpu_seconds / (l.seconds * ncpus) * 100;
        const bool noisy = run.other_pct > o.noisy_pct;
        std::printf(
            "round %d  %-15s %8.0f msg/s  p50 %6.1f us  p99 %7.1f us  server %5.2f us/msg "
            "(%3.0f%% CPU, %zu threads)  generator %3.0f%% CPU  other load %3.0f%%%s\n",
            r + 1, kind.c_str(), run.rate(), l.p50_us, l.p99_us, run.server_us_per_msg(),
            run.server_cpu_seconds / l.seconds * 100, run.threads,
            l.generator_cpu_seconds / l.seconds * 100, run.other_pct,
            noisy ? (attempt < o.retries ? "  (noisy: again)" : "  (noisy)") : "");
        std::fflush(stdout);
        if (!kept || !kept->ok || run.other_pct < kept->other_pct) kept = std::move(run);
        if (!noisy) break;
      }
      const Run& run = *kept;
      runs[kind].push_back(run);
    }
  }

  // ---- medians ----
  std::printf(
      "\nMedians over %d round(s): %zu connections x %zu B ping-pong, %.3g s per run; %s\n\n",
      o.rounds, o.connections, o.message_bytes, o.seconds, placement.c_str());
  std::printf(
      "| server         | threads |    msg/s | p50 us | p99 us | server CPU us/msg | server CPU | "
      "generator CPU | other load |\n");
  std::printf(
      "|----------------|--------:|---------:|-------:|-------:|------------------:|-----------:|--"
      "------------:|-----------:|\n");
  for (const std::string& kind : o.servers) {
    std::vector<double> rate, p50, p99, cpu_per_msg, cpu_util, gen_util, other;
    std::size_t threads = 0;
    for (const Run& run : runs[kind]) {
      if (!run.ok) continue;
      const LoadResult& l = run.load;
      rate.push_back(run.rate());
      p50.push_back(l.p50_us);
      p99.push_back(l.p99_us);
      cpu_per_msg.push_back(run.server_us_per_msg());
      cpu_util.push_back(run.server_cpu_seconds / l.seconds * 100);
      gen_util.push_back(l.generator_cpu_seconds / l.seconds * 100);
      other.push_back(run.other_pct);
      threads = run.threads;
    }
    if (rate.empty()) {
      std::printf("| %-14s | failed in every round |\n", kind.c_str());
      continue;
    }
    std::printf(
        "| %-14s | %7zu | %8.0f | %6.1f | %6.1f | %17.2f | %9.0f%% | %12.0f%% | %9.0f%% |\n",
        kind.c_str(), threads, median(rate), median(p50), median(p99), median(cpu_per_msg),
        median(cpu_util), median(gen_util), median(other));
  }
  std::printf(
      "\nother load: busy time of the %s not spent in the server or the load generator "
      "(other processes, interrupts, steal); above a few %% the numbers are noisy.\n",
      cpus.empty() ? "machine's CPUs" : "two pinned CPUs");

  // ---- ratios ----
  const std::string base = "libevent";
  if (runs.count(base)) {
    const std::map<std::string, double> targets = {{"chronos-pool", 1.0}, {"chronos-inline", 1.2}};
    std::vector<std::string> ordered;
    for (const char* k : {"chronos-pool", "chronos-inline"})
      if (runs.count(k)) ordered.push_back(k);
    for (const std::string& k : o.servers)
      if (k != base && !targets.count(k)) ordered.push_back(k);

    // One table: for each server, value(server run, libevent run) per round and the median.
    auto table = [&](const char* title, const char* label, bool with_targets,
                     double (*value)(const Run&, const Run&)) {
      std::printf("\n%s\n\n| %-27s |", title, label);
      for (int r = 0; r < o.rounds; ++r) std::printf(" round %d |", r + 1);
      std::printf(" median |%s\n|-----------------------------|", with_targets ? " target |" : "");
      for (int r = 0; r < o.rounds; ++r) std::printf("--------:|");
      std::printf("-------:|%s\n", with_targets ? "--------|" : "");
      for (const std::string& kind : ordered) {
        std::vector<double> ratios;
        std::printf("| %-27s |", (kind + " / " + base).c_str());
        for (std::size_t r = 0; r < static_cast<std::size_t>(o.rounds); ++r) {
          const Run& a = runs[kind][r];
          const Run& b = runs[base][r];
          if (a.ok && b.ok) {
            ratios.push_back(value(a, b));
            std::printf("   %5.2f |", ratios.back());
          } else {
            std::printf("     n/a |");
          }
        }
        const double m = median(ratios);
        if (ratios.empty())
          std::printf("    n/a |");
        else
          std::printf("  %5.2f |", m);
        const auto t = targets.find(kind);
        if (!with_targets)
          std::printf("\n");
        else if (t == targets.end())
          std::printf("        |\n");
        else
          std::printf(" >= %.1f %s |\n", t->second,
                      ratios.empty()   ? "n/a"
                      : m >= t->second ? "met"
                                       : "MISSED");
      }
    };
    table("Throughput ratios (msg/s, same round; above 1 = faster than libevent)", "msg/s ratio",
          true, [](const Run& a, const Run& b) { return a.rate() / b.rate(); });
    table(
        "Server CPU efficiency (libevent's server CPU us/msg over this server's, same round; "
        "above 1 = cheaper per message than libevent)",
        "CPU efficiency", false,
        [](const Run& a, const Run& b) { return b.server_us_per_msg() / a.server_us_per_msg(); });
  }

  // A saturated generator caps every server at the same rate: say so. With --busy-poll its CPU
  // reads 100% whether it is saturated or not, so its CPU says nothing then.
  std::vector<double> gen;
  for (const auto& [kind, list] : runs)
    for (const Run& run : list)
      if (run.ok) gen.push_back(run.load.generator_cpu_seconds / run.load.seconds * 100);
  if (!o.busy_poll && !gen.empty() && median(gen) >= 85)
    std::printf(
        "\nNote: the load generator used %.0f%% of its CPU (median of all runs): near "
        "saturation, it caps the faster servers and compresses the throughput ratios "
        "towards 1. The CPU efficiency table is not capped that way.\n",
        median(gen));
  std::fflush(stdout);
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    for (int i = 1; i < argc; ++i)
      if (std::string_view(argv[i]).starts_with("--serve=")) return child_main(argc, argv);
    const Options o = parse(argc, argv);
    return o.nice != 0 ? run_in_own_session(o) : parent_main(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo_bench: %s\n", e.what());
    return 2;
  }
}
