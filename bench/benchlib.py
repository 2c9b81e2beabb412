"""Shared helpers for bench/http_bench, bench/reload_soak and bench/scaling_bench (Python 3
standard library only).

Servers are started pinned with taskset, their CPU time is read from /proc/PID/stat, wrk's text
output is parsed, and every wait has a deadline. All traffic goes to 127.0.0.1.
"""
from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    pass


# Programs given by path (--wrk, --nginx): a machine without a package registry gets wrk and
# nginx as Debian packages unpacked with `dpkg -x` (bench/README.md, scaling_bench).
_TOOL_PATHS: dict[str, str] = {}


def set_tool_path(program: str, path: Path) -> None:
    path = Path(path).resolve()
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise BenchError(f"{program}: {path} is not an executable file")
    _TOOL_PATHS[program] = str(path)


def need(program: str) -> str:
    if program in _TOOL_PATHS:
        return _TOOL_PATHS[program]
    path = shutil.which(program) or (f"/usr/sbin/{program}" if os.access(f"/usr/sbin/{program}", os.X_OK) else None)
    if not path:
        raise BenchError(f"{program} not found (Debian package: {program}); install it: apt-get install {program}")
    return path


def tool_command(program: str) -> list[str]:
    """The argv prefix that runs `program`. A binary given by path that lies in an unpacked
    package tree (DIR/usr/bin/wrk, DIR/usr/sbin/nginx) finds that tree's shared libraries (wrk's
    libluajit) only through LD_LIBRARY_PATH; it is set for that program alone, through env(1),
    so that chronos keeps the system's libraries."""
    path = Path(need(program))
    usr = path.parent.parent
    if program not in _TOOL_PATHS or usr == Path("/usr") or usr == Path("/"):
        return [str(path)]
    arch = sysconfig.get_config_var("MULTIARCH") or f"{os.uname().machine}-linux-gnu"
    libs = [d for d in (usr / "lib" / arch, usr / "lib", usr.parent / "lib" / arch) if d.is_dir()]
    if not libs:
        return [str(path)]
    inherited = os.environ.get("LD_LIBRARY_PATH")
    value = ":".join([*map(str, libs), *([inherited] if inherited else [])])
    return ["env", f"LD_LIBRARY_PATH={value}", str(path)]


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago (the server binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def private_dir(parent: Path, name: str) -> Path:
    """A folder only we can write: the chronos plugin loader refuses group/other-writable ones."""
    path = parent / name
    path.mkdir(mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def install_plugin(src: Path, dst: Path, extra: bytes = b"") -> None:
    """Puts a copy of `src` (plus `extra` trailing bytes) at `dst` by rename-over: a new inode,
    so the file at `dst` is never seen half written and always counts as changed."""
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    with open(src, "rb") as f:
        data = f.read()
    with open(tmp, "wb") as f:
        f.write(data + extra)
    os.chmod(tmp, 0o700)
    os.rename(tmp, dst)


def thread_ticks(pids) -> dict[int, int]:
    """utime + stime (clock ticks) of every thread of the processes, by thread id: shows whether
    the load is spread over the reactors (or nginx's workers) or sits on one."""
    out = {}
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[int(tid)] = int(fields[11]) + int(fields[12])
    return out


def children_cpu_ticks() -> float:
    """CPU time (ticks) of this process's reaped children: wrk's, read around a wrk run."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (ru.ru_utime + ru.ru_stime) * CLK_TCK


def cpu_ticks(pids) -> int:
    """utime + stime (clock ticks) summed over the processes (all their threads)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        # fields[0] is field 3 (state); utime is field 14, stime field 15.
        total += int(fields[11]) + int(fields[12])
    return total


def foreign_cpu_ticks(exclude) -> int:
    """CPU time (ticks) of every user-space process but those in `exclude` and their reaped
    children: utime + stime + cutime + cstime. Kernel threads (ksoftirqd: our own traffic's
    network work, partly) are left out. The difference of two calls says how much other people's
    builds and benchmarks ran meanwhile (children reaped by a parent that also exited in between
    are missed: it is an indicator, not an account)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in exclude:
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[1] = ppid (field 4); 11..14 = utime, stime, cutime, cstime (fields 14..17).
        if entry == "2" or fields[1] == "2":
            continue
        total += sum(int(x) for x in fields[11:15])
    return total


def own_pids() -> set[int]:
    """This process and its ancestors (their cutime grows when they reap our children)."""
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            break
    return pids


def children_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            out.append(int(entry))
    return out


def thread_count(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"server exited with status {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise BenchError(f"server did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> int:
    """SIGTERM, wait (bounded), SIGKILL as a last resort. Returns the exit status."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
            return -9
    return proc.returncode


def http_get_body(port: int, timeout: float = 1.0) -> bytes | None:
    """GET / on a NEW connection (Connection: close); the body, or None on any failure."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"HTTP/1.1 200"):
        return None
    return body


# --- wrk -----------------------------------------------------------------------------------------

_UNITS_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def _to_us(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not m:
        raise BenchError(f"cannot parse wrk duration {text!r}")
    return float(m.group(1)) * _UNITS_US[m.group(2)]


@dataclass
class WrkResult:
    rps: float = 0.0
    requests: int = 0
    p50_us: float = float("nan")
    p99_us: float = float("nan")
    connect: int = 0
    read: int = 0
    write: int = 0
    timeout: int = 0
    non2xx: int = 0
    raw: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return self.connect + self.read + self.write + self.timeout

    @property
    def failed(self) -> int:
        return self.errors + self.non2xx


def parse_wrk(out: str) -> WrkResult:
    r = WrkResult(raw=out)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise BenchError("wrk printed no Requests/sec line:\n" + out)
    r.rps = float(m.group(1))
    m = re.search(r"(\d+) requests in", out)
    r.requests = int(m.group(1)) if m else 0
    for pct, attr in (("50", "p50_us"), ("99", "p99_us")):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        if m and _to_us(m.group(1)) > 0:  # wrk 4.1 sometimes prints 0.00us (a histogram bug)
            setattr(r, attr, _to_us(m.group(1)))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        r.connect, r.read, r.write, r.timeout = map(int, m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        r.non2xx = int(m.group(1))
    return r


def wrk_command(port: int, duration: float, connections: int, threads: int, cpu: str,
                script: Path | None = None, script_args=(), headers=()) -> list[str]:
    cmd = ["taskset", "-c", cpu, *tool_command("wrk"), f"-t{threads}", f"-c{connections}",
           f"-d{max(1, round(duration))}s", "--latency", "--timeout", "2s"]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", str(script)]
    cmd.append(f"http://127.0.0.1:{port}/")
    if script_args:
        cmd += ["--", *map(str, script_args)]
    return cmd


def run_wrk(cmd: list[str], duration: float) -> WrkResult:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30)
    except subprocess.TimeoutExpired:
        raise BenchError("wrk did not finish in time: " + " ".join(cmd))
    if p.returncode != 0:
        raise BenchError(f"wrk failed ({p.returncode}): {p.stderr.strip() or p.stdout.strip()}")
    return parse_wrk(p.stdout)


# --- chronos -------------------------------------------------------------------------------------

def chronos_paths(build: Path) -> tuple[Path, Path]:
    binary = build / "bin" / "chronos"
    plugin = build / "plugins" / "http.so"
    for p in (binary, plugin):
        if not p.exists():
            raise BenchError(f"{p} is missing; build first:\n"
                             f"  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && "
                             f"cmake --build build -j2 --target chronos http")
    return binary, plugin


def yaml_string(text: str) -> str:
    """A double-quoted YAML scalar."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{out}"'


def chronos_config(plugin_path: Path, port: int, execution: str, workers: str, body: str,
                   log_level: str = "warn", reactors: int | str | None = None,
                   cpu_affinity: list[int] | None = None) -> str:
    # `reactors` and `cpu_affinity` are written only when asked for, so that the same script
    # runs on builds that predate those keys (issue 13) for the one-reactor case.
    top = ""
    if reactors is not None:
        top += f"reactors: {reactors}\n"
    if cpu_affinity:
        top += f"cpu_affinity: [{', '.join(map(str, cpu_affinity))}]\n"
    return f"""# generated by bench/ (a temporary file)
{top}workers: {workers}
queue_capacity: 65536
shutdown_timeout_ms: 3000
log: {{ level: {log_level} }}
plugins:
  - name: http
    path: {plugin_path}
    config:
      body: {yaml_string(body)}
listeners:
  - name: http
    address: 127.0.0.1:{port}
    plugin: http
    max_connections: 10000
    idle_timeout_ms: 0
    max_buffer_bytes: 1048576
    execution: {execution}
"""


def write_file(path: Path, text: str) -> None:
    """Writes by rename-over, so a reload never reads a half-written file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.chmod(tmp, stat.S_IRUSR | stat.S_IWUSR)
    os.rename(tmp, path)


def median(values):
    values = [v for v in values if v == v]  # drop NaN
    if not values:
        return float("nan")
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def machine_header() -> str:
    load = open("/proc/loadavg").read().split()[:3]
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        rev = (rev or "?") + ("+dirty" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        rev = "?"
    return (f"{time.strftime('%Y-%m-%d %H:%M:%S')}  {os.cpu_count()} CPUs  kernel {os.uname().release}"
            f"  load average {' '.join(load)}  chronos {rev}")


def busy_cpus(window: float = 1.0) -> float:
    """CPUs' worth of busy time over `window` seconds, from /proc/stat (all CPUs)."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + v[4]
        return sum(v[:8]) - idle, sum(v[:8])
    b0, t0 = sample()
    time.sleep(window)
    b1, t1 = sample()
    ncpu = os.cpu_count() or 1
    return (b1 - b0) / max(1, t1 - t0) * ncpu


def wait_idle(max_wait: float, limit: float = 0.2) -> tuple[float, float]:
    """Waits (at most `max_wait` s) until other processes use less than `limit` CPUs over one
    second: others' builds and benchmarks on this machine would otherwise skew the numbers.
    Returns (seconds waited, busy CPUs in the last window)."""
    start = time.monotonic()
    busy = busy_cpus(0.5)
    while busy > limit and time.monotonic() - start < max_wait:
        busy = busy_cpus(1.0)
    return time.monotonic() - start, busy


def add_priority_option(ap) -> None:
    ap.add_argument("--nice", type=int, default=-20 if os.geteuid() == 0 else 0,
                    help="run the script, the servers and wrk in a session of their own whose "
                         "scheduler autogroup has this niceness, so that other people's builds "
                         "on the machine disturb the numbers less; 0 = don't. Default -20 as root")


def apply_priority(nice: int) -> None:
    """Linux's autogroup scheduling shares the CPUs between sessions first and only then by
    niceness, so a plain `nice -n -20` does nothing against another terminal's build. This
    forks: the parent stays in the caller's session (Ctrl-C still works: it forwards INT, TERM
    and HUP) and waits; the child starts a new session, sets its autogroup's niceness, and runs
    the benchmark. Servers and wrk inherit both."""
    if nice == 0:
        return
    child = os.fork()
    if child:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(s) != signal.SIG_IGN:  # e.g. SIGINT of a background job
                signal.signal(s, lambda n, _f: os.kill(child, n))
        while True:
            try:
                _, status = os.waitpid(child, 0)
                break
            except InterruptedError:
                continue
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF if os.WIFEXITED(status) else 1)
    os.setsid()
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(nice))
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    except OSError as e:
        print(f"note: cannot raise the priority ({e.strerror}); running at the default",
              flush=True)


# --- servers: nginx and chronos, started fresh for one measurement -----------------------------

def cpu_list(cpus) -> str:
    """taskset's form of a CPU list, runs as ranges: [0, 1, 2, 3, 8] -> 0-3,8."""
    parts, cpus = [], list(cpus)
    i = 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        parts.append(str(cpus[i]) if i == j else f"{cpus[i]}-{cpus[j]}")
        i = j + 1
    return ",".join(parts)


class Server:
    proc: subprocess.Popen | None = None
    threads = 0

    def pids(self) -> list[int]:
        return [self.proc.pid]

    def stop(self) -> int:
        return stop_process(self.proc) if self.proc else 0


def nginx_affinity(workers: int, cpus: list[int]) -> str:
    """nginx's worker_cpu_affinity: one bit mask per worker (CPU 0 is the rightmost bit), the
    CPUs taken in order, round robin: the same placement as chronos's cpu_affinity."""
    masks = []
    for i in range(workers):
        cpu = cpus[i % len(cpus)]
        masks.append("1" + "0" * cpu)
    return " ".join(masks)


class Nginx(Server):
    """nginx -p TMP -c TMP/nginx.conf in the foreground: a master and `workers` worker processes,
    `return 200 "hello\\n"` on 127.0.0.1:PORT, no access log, every path under TMP. With several
    workers they share one listening socket (nginx adds EPOLLEXCLUSIVE), or with `reuseport`
    each has its own in one SO_REUSEPORT group."""

    def __init__(self, root: Path, port: int, cpu: str, workers: int = 1,
                 cpu_affinity: list[int] | None = None, reuseport: bool = False):
        self.root, self.port, self.cpu = root, port, cpu
        self.workers, self.cpu_affinity, self.reuseport = workers, cpu_affinity, reuseport
        self._pids: list[int] = []

    def start(self) -> None:
        r = self.root
        (r / "temp").mkdir(exist_ok=True)
        affinity = (f"worker_cpu_affinity {nginx_affinity(self.workers, self.cpu_affinity)};\n"
                    if self.cpu_affinity else "")
        conf = f"""# generated by bench/ (a temporary file)
worker_processes {self.workers};
{affinity}pid {r}/nginx.pid;
error_log {r}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path {r}/temp/body;
    proxy_temp_path {r}/temp/proxy;
    fastcgi_temp_path {r}/temp/fastcgi;
    uwsgi_temp_path {r}/temp/uwsgi;
    scgi_temp_path {r}/temp/scgi;
    server {{
        listen 127.0.0.1:{self.port}{" reuseport" if self.reuseport else ""};
        location / {{ return 200 "hello\\n"; }}
    }}
}}
"""
        (r / "nginx.conf").write_text(conf)
        log = open(r / "nginx.out", "wb")
        self.proc = subprocess.Popen(
            ["taskset", "-c", self.cpu, *tool_command("nginx"), "-p", str(r), "-e",
             str(r / "error.log"), "-c", str(r / "nginx.conf"), "-g", "daemon off;"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_port(self.port, self.proc)
        # The master listens before it forks its workers: wait for all of them, or a worker
        # that starts late would be missing from the CPU account.
        deadline = time.monotonic() + 5
        while len(children_of(self.proc.pid)) < self.workers and time.monotonic() < deadline:
            time.sleep(0.02)
        workers = children_of(self.proc.pid)
        if len(workers) < self.workers:
            raise BenchError(f"nginx: {len(workers)} of {self.workers} workers started; "
                             f"{r / 'error.log'}:\n" + (r / "error.log").read_text())
        self._pids = [self.proc.pid, *workers]
        self.threads = sum(thread_count(p) for p in self._pids)

    def pids(self) -> list[int]:
        return self._pids

    def describe(self) -> str:
        n = len(self._pids) - 1
        return f"nginx master+{n} worker{'s' if n != 1 else ''}"


POLICIES = {os.SCHED_OTHER: "SCHED_OTHER", os.SCHED_BATCH: "SCHED_BATCH", os.SCHED_IDLE: "SCHED_IDLE",
            os.SCHED_FIFO: "SCHED_FIFO", os.SCHED_RR: "SCHED_RR"}


def policy_of(tid: int) -> str:
    try:
        return POLICIES.get(os.sched_getscheduler(tid), "?")
    except OSError:
        return "?"


class Chronos(Server):
    """build/bin/chronos with the http plugin (body "hello\\n") on 127.0.0.1:PORT: a supervisor
    and its server child, both measured. `reactors` None leaves the key out of the configuration
    (the one-reactor default, valid on every build)."""

    def __init__(self, root: Path, port: int, cpu: str, build: Path, execution: str, workers: str,
                 reactor_policy: str = "asis", reactors: int | str | None = None,
                 cpu_affinity: list[int] | None = None):
        self.root, self.port, self.cpu = root, port, cpu
        self.binary, self.plugin = chronos_paths(build)
        self.execution, self.workers = execution, workers
        self.reactors, self.cpu_affinity = reactors, cpu_affinity
        self.reactor_policy = reactor_policy
        self.policies = ""
        self.config: Path | None = None

    def prepare(self) -> Path:
        """Writes the configuration and a private copy of the plugin; returns the configuration."""
        if self.config is None:
            plugins = private_dir(self.root, "plugins")
            plugin = plugins / "http.so"
            shutil.copyfile(self.plugin, plugin)
            os.chmod(plugin, 0o700)
            self.config = self.root / "chronos.yaml"
            write_file(self.config, chronos_config(plugin, self.port, self.execution, self.workers,
                                                   "hello\n", log_level="warn",
                                                   reactors=self.reactors,
                                                   cpu_affinity=self.cpu_affinity))
        return self.config

    def check(self) -> str | None:
        """`chronos -t`: None if the configuration is valid, else chronos's messages. Binds
        nothing, so a build that lacks a key fails here in a second, not after a run."""
        p = subprocess.run([str(self.binary), "-t", "-c", str(self.prepare())],
                           capture_output=True, text=True, timeout=30)
        return None if p.returncode == 0 else (p.stderr.strip() or p.stdout.strip()
                                               or f"exit status {p.returncode}")

    def start(self) -> None:
        config = self.prepare()
        self.log = self.root / "chronos.log"
        log = open(self.log, "wb")
        self.proc = subprocess.Popen(
            ["taskset", "-c", self.cpu, str(self.binary), "-c", str(config)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_port(self.port, self.proc)
        # One reply: the reactor loop runs, so chronos has set its own scheduling policy.
        if http_get_body(self.port) is None:
            raise BenchError("chronos does not answer GET /")
        # chronos is a supervisor (the pid started) and its server child: both are measured; the
        # server is the one child (the supervisor's own CPU use is near zero).
        servers = children_of(self.proc.pid)
        if len(servers) != 1:
            raise BenchError(f"chronos: expected one server process, found {servers}")
        self.server_pid = servers[0]
        if self.reactor_policy != "asis":
            # The reactor is the server's main thread (its tid is its pid). An experiment knob only.
            policy = os.SCHED_BATCH if self.reactor_policy == "batch" else os.SCHED_OTHER
            os.sched_setscheduler(self.server_pid, policy, os.sched_param(0))
        self.threads = self.thread_total()

    def pids(self) -> list[int]:
        return [self.proc.pid, self.server_pid]

    def thread_total(self) -> int:
        return sum(thread_count(p) for p in self.pids())

    def note_policies(self) -> None:
        """Scheduling policy of every thread, reactor (the main thread) first."""
        try:
            tids = sorted(int(t) for t in os.listdir(f"/proc/{self.server_pid}/task"))
        except OSError:
            return
        self.policies = ", ".join(policy_of(t) for t in tids)

    def stop(self) -> int:
        status = super().stop()
        if status != 0:
            raise BenchError(f"chronos exited with status {status}; log:\n" + self.log.read_text())
        return status

    def describe(self) -> str:
        reactors = f"reactors={self.reactors} " if self.reactors is not None else ""
        policies = f" (server's reactor first: {self.policies})" if self.policies else ""
        return (f"chronos {self.execution} {reactors}workers={self.workers}, supervisor + server, "
                f"{self.threads} threads{policies}")


# --- report --------------------------------------------------------------------------------------

def table(headers: list[str], rows: list[list[str]]) -> None:
    """A Markdown table: first column left-aligned, the others right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    print(line(headers))
    print("|" + "|".join(("-" * (w + 1) + ":") if i else ("-" * (w + 2))
                         for i, w in enumerate(widths)) + "|")
    for r in rows:
        print(line(r))
