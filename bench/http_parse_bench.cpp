// http_parse_bench: Chronos's HTTP/1.1 request parser (chronos/http.h) against nodejs
// http-parser 2.9 (Debian's libhttp-parser-dev), in one run on the same inputs. See
// bench/README.md for the method.
//
// Each input set is one buffer of many pipelined request heads (no bodies). Both parsers parse
// the whole buffer, head after head, and record what an application needs: Chronos into a
// chronos_http_message with a fields array, http-parser through callbacks that store the
// target's and each field's name/value pointers. After each head both add the lengths of what
// they recorded to a checksum, so nothing can be optimised away, and the request count, field
// count and checksum of both must agree with what the generator wrote. Every round runs every
// parser on every set for a fixed time, the parsers' order rotating each round; the tables give
// the medians of the rounds with their min-max and the ratio chronos / http-parser.

#include <http_parser.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "chronos/http.h"

namespace {

constexpr std::size_t kMaxFields = 64;

struct Options {
  int rounds = 7;
  double seconds = 1.0;  // per parser per set per round
  std::size_t buffer_kib = 256;
  std::vector<std::string> sets;  // empty: all
};

void usage(FILE* out) {
  std::fprintf(out,
               "usage: http_parse_bench [options]\n"
               "  --rounds R       rounds; the parsers' order rotates each round (7)\n"
               "  --seconds S      measured seconds per parser per set per round (1.0)\n"
               "  --buffer-kib K   size of each set's buffer of pipelined requests (256)\n"
               "  --sets LIST      comma-separated, from: small heavy mix (all)\n"
               "  --quick          smoke test: --rounds 3 --seconds 0.15\n");
}

// --- inputs ---------------------------------------------------------------------------------

// wrk's default request, as sent to http_bench's servers.
const std::string kSmallGet = "GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n";

// Browser-like requests: 11-15 fields, a long User-Agent, Accept-*, Cookie.
const std::vector<std::string> kHeavy = {
    // Chrome, a page load.
    "GET /articles/2024/05/http-parsing-at-scale?utm_source=newsletter&utm_medium=email "
    "HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "Cache-Control: max-age=0\r\n"
    "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-User: ?1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Referer: https://www.example.com/articles/\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Accept-Language: en-US,en;q=0.9,de;q=0.8\r\n"
    "Cookie: _ga=GA1.2.1234567890.1700000000; _gid=GA1.2.987654321.1716000000; "
    "session_id=9f8e7d6c5b4a39281706f5e4d3c2b1a0; theme=dark; consent=analytics%3Dyes%26ads%3Dno; "
    "csrftoken=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg\r\n"
    "\r\n",
    // Firefox, a stylesheet.
    "GET /static/css/main.4f2a9c1e.css HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:126.0) Gecko/20100101 "
    "Firefox/126.0\r\n"
    "Accept: text/css,*/*;q=0.1\r\n"
    "Accept-Language: en-GB,en;q=0.7,fr;q=0.3\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Connection: keep-alive\r\n"
    "Referer: https://www.example.com/articles/2024/05/http-parsing-at-scale\r\n"
    "Cookie: session_id=9f8e7d6c5b4a39281706f5e4d3c2b1a0; theme=dark; "
    "consent=analytics%3Dyes%26ads%3Dno\r\n"
    "Sec-Fetch-Dest: style\r\n"
    "Sec-Fetch-Mode: no-cors\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "If-Modified-Since: Tue, 14 May 2024 08:12:31 GMT\r\n"
    "If-None-Match: \"4f2a9c1e-1b3d7\"\r\n"
    "\r\n",
    // Safari, an XHR.
    "GET /api/v2/users/48213/notifications?since=1716212345&limit=50 HTTP/1.1\r\n"
    "Host: api.example.com\r\n"
    "Accept: application/json, text/plain, */*\r\n"
    "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0ODIxMyIsImV4cCI6MTcx"
    "NjIxNjAwMH0.c2lnbmF0dXJlLW5vdC1yZWFsbHk\r\n"
    "Sec-Fetch-Site: same-site\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Sec-Fetch-Mode: cors\r\n"
    "Origin: https://www.example.com\r\n"
    "User-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4.1 Safari/605.1.15\r\n"
    "Referer: https://www.example.com/\r\n"
    "Connection: keep-alive\r\n"
    "Sec-Fetch-Dest: empty\r\n"
    "X-Requested-With: XMLHttpRequest\r\n"
    "\r\n",
    // Chrome, an image.
    "GET /img/photos/2024/team-offsite-lisbon@2x.webp HTTP/1.1\r\n"
    "Host: cdn.example.com\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/124.0.0.0 Safari/537.36\r\n"
    "sec-ch-ua-platform: \"Windows\"\r\n"
    "Accept: image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8\r\n"
    "Sec-Fetch-Site: same-site\r\n"
    "Sec-Fetch-Mode: no-cors\r\n"
    "Sec-Fetch-Dest: image\r\n"
    "Referer: https://www.example.com/\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "\r\n",
};

// What a buffer holds, as the generator wrote it: what both parsers must report.
struct Expected {
  std::size_t requests = 0;
  std::size_t fields = 0;
  std::uint64_t checksum = 0;  // sum over heads of target length + names' and values' lengths
};

struct InputSet {
  std::string key;    // for --sets
  std::string title;  // for the tables
  std::string bytes;
  Expected expected;
};

// The expected values of one head, read by a few lines of plain code (the generator's inputs
// are simple: one SP-separated request line, "Name: value" fields without trailing OWS).
void account(const std::string& head, Expected& e) {
  const std::size_t sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
  e.checksum += sp2 - sp1 - 1;
  std::size_t pos = head.find("\r\n") + 2;
  for (;;) {
    const std::size_t end = head.find("\r\n", pos);
    if (end == pos) break;
    const std::size_t colon = head.find(':', pos);
    std::size_t value = colon + 1;
    while (head[value] == ' ') ++value;
    e.checksum += (colon - pos) + (end - value);
    ++e.fields;
    pos = end + 2;
  }
  ++e.requests;
}

// Fills up to `bytes` with heads: `heavy_share` of them (0..1) header-heavy, the rest small
// GETs, in a fixed pseudo-random order.
InputSet make_set(std::string key, std::string title, double heavy_share, std::size_t bytes) {
  InputSet s{std::move(key), std::move(title), {}, {}};
  std::uint32_t rng = 0x2545F491u;
  std::size_t heavy_next = 0;
  for (;;) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    const bool heavy = (rng % 1000) < heavy_share * 1000;
    const std::string& head = heavy ? kHeavy[heavy_next++ % kHeavy.size()] : kSmallGet;
    if (s.bytes.size() + head.size() > bytes) break;
    s.bytes += head;
    account(head, s.expected);
  }
  s.bytes.shrink_to_fit();
  return s;
}

// --- the parsers ------------------------------------------------------------------------------

struct Result {
  std::size_t requests = 0, fields = 0;
  std::size_t gets = 0, keep_alive = 0;  // every generated request is a keep-alive GET
  std::uint64_t checksum = 0;
  bool ok = true;
  std::string error;
};

// Chronos: one parse_request call per head, the fields stored in an array.
Result parse_chronos(const std::string& buffer) {
  Result r;
  chronos_http_parser parser;
  chronos_http_parser_init(&parser, 0);
  chronos_http_field fields[kMaxFields];
  const char* data = buffer.data();
  std::size_t pos = 0;
  const std::size_t len = buffer.size();
  while (pos < len) {
    chronos_http_message m;
    chronos_http_message_init(&m, fields, kMaxFields);
    if (chronos_http_parse_request(&parser, data + pos, len - pos, &m) != CHRONOS_HTTP_DONE) {
      r.ok = false;
      r.error = parser.error != nullptr ? parser.error : "incomplete head";
      return r;
    }
    // What an application reads: method, target, the fields, framing and keep-alive.
    std::uint64_t sum = m.target_len;
    for (std::size_t i = 0; i < m.field_count; ++i)
      sum += m.fields[i].name_len + m.fields[i].value_len;
    r.checksum += sum;
    r.fields += m.field_count;
    r.gets += m.method_len == 3 && std::memcmp(m.method, "GET", 3) == 0 &&
              m.framing == CHRONOS_HTTP_BODY_NONE;
    r.keep_alive += (m.flags & CHRONOS_HTTP_KEEP_ALIVE) != 0;
    ++r.requests;
    pos += m.head_length;
  }
  return r;
}

// http-parser: one http_parser_execute over the whole buffer; callbacks record the target and
// each field's name and value (joining pieces, as an application must in general, though one
// buffer never splits them here), on_headers_complete reads the head as the Chronos loop does.
struct HpState {
  struct Span {
    const char* at;
    std::size_t len;
  };
  Span url{nullptr, 0};
  Span names[kMaxFields], values[kMaxFields];
  std::size_t count = 0;
  bool in_value = false;
  bool overflow = false;
  Result* result = nullptr;
};

int hp_message_begin(http_parser* p) {
  auto* s = static_cast<HpState*>(p->data);
  s->url = {nullptr, 0};
  s->count = 0;
  s->in_value = false;
  return 0;
}

int hp_url(http_parser* p, const char* at, std::size_t len) {
  auto* s = static_cast<HpState*>(p->data);
  if (s->url.at == nullptr) s->url.at = at;
  s->url.len += len;
  return 0;
}

int hp_header_field(http_parser* p, const char* at, std::size_t len) {
  auto* s = static_cast<HpState*>(p->data);
  if (s->count == 0 || s->in_value) {  // a new field
    if (s->count == kMaxFields) {
      s->overflow = true;
      return 1;
    }
    s->names[s->count] = {at, len};
    s->values[s->count] = {at, 0};
    ++s->count;
    s->in_value = false;
  } else {
    s->names[s->count - 1].len += len;
  }
  return 0;
}

int hp_header_value(http_parser* p, const char* at, std::size_t len) {
  auto* s = static_cast<HpState*>(p->data);
  HpState::Span& v = s->values[s->count - 1];
  if (!s->in_value) v = {at, 0};
  v.len += len;
  s->in_value = true;
  return 0;
}

int hp_headers_complete(http_parser* p) {
  auto* s = static_cast<HpState*>(p->data);
  Result& r = *s->result;
  std::uint64_t sum = s->url.len;
  for (std::size_t i = 0; i < s->count; ++i) sum += s->names[i].len + s->values[i].len;
  r.checksum += sum;
  r.fields += s->count;
  // The same reads as the Chronos loop: method, framing (no body), keep-alive.
  r.gets += p->method == HTTP_GET && (p->flags & F_CHUNKED) == 0 &&
            (p->content_length == 0 || p->content_length == ULLONG_MAX);
  r.keep_alive += http_should_keep_alive(p) != 0;
  return 0;
}

int hp_message_complete(http_parser* p) {
  ++static_cast<HpState*>(p->data)->result->requests;
  return 0;
}

Result parse_http_parser(const std::string& buffer) {
  static const http_parser_settings settings = [] {
    http_parser_settings s;
    http_parser_settings_init(&s);
    s.on_message_begin = hp_message_begin;
    s.on_url = hp_url;
    s.on_header_field = hp_header_field;
    s.on_header_value = hp_header_value;
    s.on_headers_complete = hp_headers_complete;
    s.on_message_complete = hp_message_complete;
    return s;
  }();
  Result r;
  HpState state;
  state.result = &r;
  http_parser parser;
  http_parser_init(&parser, HTTP_REQUEST);
  parser.data = &state;
  const std::size_t n = http_parser_execute(&parser, &settings, buffer.data(), buffer.size());
  if (n != buffer.size() || HTTP_PARSER_ERRNO(&parser) != HPE_OK) {
    r.ok = false;
    r.error =
        state.overflow ? "too many fields" : http_errno_description(HTTP_PARSER_ERRNO(&parser));
  }
  return r;
}

struct Parser {
  const char* name;
  Result (*parse)(const std::string&);
};

const Parser kParsers[] = {{"chronos", parse_chronos}, {"http-parser", parse_http_parser}};
constexpr std::size_t kParserCount = sizeof kParsers / sizeof kParsers[0];

// --- measuring --------------------------------------------------------------------------------

using Clock = std::chrono::steady_clock;

// Parses the buffer again and again for `seconds`; returns passes per second. Every pass is
// checked against the generator's numbers.
double measure(const Parser& parser, const InputSet& set, double seconds) {
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  std::uint64_t passes = 0;
  Clock::time_point now;
  do {
    const Result r = parser.parse(set.bytes);
    if (!r.ok || r.requests != set.expected.requests || r.fields != set.expected.fields ||
        r.checksum != set.expected.checksum || r.gets != r.requests || r.keep_alive != r.requests) {
      std::fprintf(stderr,
                   "CORRECTNESS FAILURE: %s on %s: %s; requests %zu (expected %zu), fields %zu "
                   "(%zu), GETs %zu, keep-alive %zu, checksum %llu (%llu)\n",
                   parser.name, set.key.c_str(), r.ok ? "counts differ" : r.error.c_str(),
                   r.requests, set.expected.requests, r.fields, set.expected.fields, r.gets,
                   r.keep_alive, static_cast<unsigned long long>(r.checksum),
                   static_cast<unsigned long long>(set.expected.checksum));
      std::exit(1);
    }
    ++passes;
    now = Clock::now();
  } while (now < until);
  return static_cast<double>(passes) / std::chrono::duration<double>(now - start).count();
}

struct Stats {
  double median, min, max;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  const double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return {median, v.front(), v.back()};
}

double parse_number(const char* flag, const char* text) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(v > 0)) {
    std::fprintf(stderr, "http_parse_bench: %s needs a positive number, not '%s'\n", flag, text);
    std::exit(2);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "http_parse_bench: %s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--rounds") {
      opt.rounds = static_cast<int>(parse_number("--rounds", value()));
    } else if (a == "--seconds") {
      opt.seconds = parse_number("--seconds", value());
    } else if (a == "--buffer-kib") {
      opt.buffer_kib = static_cast<std::size_t>(parse_number("--buffer-kib", value()));
    } else if (a == "--sets") {
      std::string list = value();
      for (std::size_t pos = 0; pos <= list.size();) {
        const std::size_t comma = std::min(list.find(',', pos), list.size());
        opt.sets.push_back(list.substr(pos, comma - pos));
        pos = comma + 1;
      }
    } else if (a == "--quick") {
      opt.rounds = 3;
      opt.seconds = 0.15;
    } else if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (opt.rounds < 1) opt.rounds = 1;

  const std::size_t bytes = opt.buffer_kib * 1024;
  std::vector<InputSet> all;
  all.push_back(make_set("small", "(a) small GETs (wrk's request)", 0.0, bytes));
  all.push_back(make_set("heavy", "(b) header-heavy browser requests", 1.0, bytes));
  all.push_back(make_set("mix", "(c) mix: half small GETs, half header-heavy", 0.5, bytes));
  std::vector<InputSet> sets;
  if (opt.sets.empty()) {
    sets = std::move(all);
  } else {
    for (const std::string& key : opt.sets) {
      const auto it =
          std::find_if(all.begin(), all.end(), [&](const InputSet& s) { return s.key == key; });
      if (it == all.end()) {
        std::fprintf(stderr, "http_parse_bench: unknown set '%s' (small, heavy, mix)\n",
                     key.c_str());
        return 2;
      }
      sets.push_back(*it);
    }
  }

  double load[3] = {0, 0, 0};
  FILE* la = std::fopen("/proc/loadavg", "r");
  if (la != nullptr) {
    if (std::fscanf(la, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = -1;
    std::fclose(la);
  }
  std::printf(
      "http_parse_bench: chronos/http.h vs http-parser %d.%d.%d; %ld CPUs, load average "
      "%.2f %.2f %.2f\n",
      HTTP_PARSER_VERSION_MAJOR, HTTP_PARSER_VERSION_MINOR, HTTP_PARSER_VERSION_PATCH,
      sysconf(_SC_NPROCESSORS_ONLN), load[0], load[1], load[2]);
  std::printf(
      "%d rounds x %.2f s per parser per set, parsers' order rotating each round; "
      "buffers of %zu KiB of pipelined heads\n\n",
      opt.rounds, opt.seconds, opt.buffer_kib);
  for (const InputSet& s : sets)
    std::printf("  %-6s %s: %zu requests, %zu bytes (%.0f B/request), %.1f fields/request\n",
                s.key.c_str(), s.title.c_str(), s.expected.requests, s.bytes.size(),
                static_cast<double>(s.bytes.size()) / s.expected.requests,
                static_cast<double>(s.expected.fields) / s.expected.requests);
  std::printf("\n");
  std::fflush(stdout);

  // Warm-up (and a first correctness check of every parser on every set).
  for (const InputSet& s : sets)
    for (const Parser& p : kParsers) measure(p, s, std::min(0.2, opt.seconds));

  // passes[set][parser][round]
  std::vector<std::vector<std::vector<double>>> passes(
      sets.size(), std::vector<std::vector<double>>(kParserCount));
  for (int round = 0; round < opt.rounds; ++round) {
    for (std::size_t si = 0; si < sets.size(); ++si) {
      for (std::size_t k = 0; k < kParserCount; ++k) {
        const std::size_t pi = (k + static_cast<std::size_t>(round)) % kParserCount;
        passes[si][pi].push_back(measure(kParsers[pi], sets[si], opt.seconds));
      }
    }
    std::fprintf(stderr, "round %d/%d done\n", round + 1, opt.rounds);  // progress, on stderr
  }

  std::fflush(stderr);
  std::vector<std::string> summary;
  for (std::size_t si = 0; si < sets.size(); ++si) {
    const InputSet& s = sets[si];
    const double mb = static_cast<double>(s.bytes.size()) / 1e6;
    const double nreq = static_cast<double>(s.expected.requests);
    std::printf("== %s ==\n", s.title.c_str());
    std::printf("   %-12s %10s %19s %9s %8s\n", "parser", "Mreq/s", "min-max", "MB/s", "ns/req");
    for (std::size_t pi = 0; pi < kParserCount; ++pi) {
      const Stats st = stats(passes[si][pi]);
      char range[32];
      std::snprintf(range, sizeof range, "%.2f-%.2f", st.min * nreq / 1e6, st.max * nreq / 1e6);
      std::printf("   %-12s %10.2f %19s %9.0f %8.1f\n", kParsers[pi].name, st.median * nreq / 1e6,
                  range, st.median * mb, 1e9 / (st.median * nreq));
    }
    std::vector<double> ratios;
    for (int round = 0; round < opt.rounds; ++round)
      ratios.push_back(passes[si][0][static_cast<std::size_t>(round)] /
                       passes[si][1][static_cast<std::size_t>(round)]);
    const Stats r = stats(ratios);
    const double ratio = stats(passes[si][0]).median / stats(passes[si][1]).median;
    std::printf(
        "   chronos / http-parser: %.2fx (per-round ratios: median %.2fx, min-max "
        "%.2f-%.2fx)\n\n",
        ratio, r.median, r.min, r.max);
    char line[256];
    std::snprintf(
        line, sizeof line,
        "SUMMARY %-5s chronos %6.2f Mreq/s (%4.0f MB/s), http-parser %6.2f Mreq/s "
        "(%4.0f MB/s): chronos / http-parser = %.2fx%s",
        s.key.c_str(), stats(passes[si][0]).median * nreq / 1e6, stats(passes[si][0]).median * mb,
        stats(passes[si][1]).median * nreq / 1e6, stats(passes[si][1]).median * mb, ratio,
        s.key == "mix" ? (ratio >= 1.5 ? " (target >= 1.5x: met)" : " (target >= 1.5x: NOT met)")
                       : "");
    summary.emplace_back(line);
  }
  for (const std::string& line : summary) std::printf("%s\n", line.c_str());
  return 0;
}
