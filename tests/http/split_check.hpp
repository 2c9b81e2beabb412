// Test support for chronos/http.h: runs the parser over a byte string delivered whole, split in
// two at every byte boundary, and one byte at a time, and checks that every delivery gives the
// same verdict. Each call gets a fresh heap copy of exactly the bytes it is offered (so the
// parser can keep no pointer between calls, and AddressSanitizer sees any read past `len`).
//
//   parse_request_all_splits(bytes)            a request head: the verdict of the head alone
//   parse_response_all_splits(bytes, method)   a response head
//   parse_request_stream_all_splits(bytes)     heads and bodies, messages one after another, in
//   parse_response_stream_all_splits(bytes, methods)   the on_data model of chronos/plugin.h
//
// Incremental contract (chronos/http.h): while a head answers AGAIN, call again with the same
// first byte and everything that arrived since; in a body, skip `consumed` bytes and offer the
// rest again, with newer bytes after them.
#pragma once

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "chronos/http.h"

namespace chronos_http_test {

inline constexpr int kDone = CHRONOS_HTTP_DONE;
inline constexpr int kError = CHRONOS_HTTP_ERROR;
inline constexpr int kAgain = CHRONOS_HTTP_AGAIN;
inline constexpr int kData = CHRONOS_HTTP_DATA;

inline constexpr int kNone = CHRONOS_HTTP_BODY_NONE;
inline constexpr int kLength = CHRONOS_HTTP_BODY_LENGTH;
inline constexpr int kChunked = CHRONOS_HTTP_BODY_CHUNKED;
inline constexpr int kUntilClose = CHRONOS_HTTP_BODY_UNTIL_CLOSE;

inline constexpr unsigned kKeepAlive = CHRONOS_HTTP_KEEP_ALIVE;
inline constexpr unsigned kExpect = CHRONOS_HTTP_EXPECT_CONTINUE;
inline constexpr unsigned kUpgrade = CHRONOS_HTTP_UPGRADE;
inline constexpr unsigned kCoded = CHRONOS_HTTP_CODED;

// How a parser is set up for a check.
struct Config {
  unsigned options = 0;               // chronos_http_parser_init options (CHRONOS_HTTP_LENIENT_LF)
  std::size_t max_head_bytes = 0;     // chronos_http_parser_set_limits (0: the default 8192)
  unsigned max_fields = 0;            // (0: the default 100)
  std::size_t fields_capacity = 256;  // the message's fields array (0: no array)
};

inline Config lenient() {
  Config c;
  c.options = CHRONOS_HTTP_LENIENT_LF;
  return c;
}

struct Field {
  std::string name;
  std::string value;
  bool operator==(const Field&) const = default;
};
using Fields = std::vector<Field>;

// The verdict on one head. On ERROR only result and error_status are kept; on AGAIN only result.
struct Head {
  int result = kAgain;
  int error_status = 0;
  std::string method;  // requests
  std::string target;
  std::string host;
  int status = 0;  // responses
  std::string reason;
  int version_minor = 0;
  unsigned flags = 0;
  int framing = kNone;
  std::uint64_t content_length = 0;
  std::size_t head_length = 0;
  std::size_t field_count = 0;
  Fields fields;  // as stored in the fields array (empty without one)
  bool operator==(const Head&) const = default;
};
using RequestVerdict = Head;
using ResponseVerdict = Head;

inline Head error_head(int status) {
  Head h;
  h.result = kError;
  h.error_status = status;
  return h;
}

// One message of a stream: its head and what its body gave.
struct Message {
  Head head;
  std::string body;          // the DATA pieces, concatenated
  Fields trailers;           // from chronos_http_body.trailers, after a chunked body
  int body_result = kAgain;  // DONE: the body ended; ERROR; AGAIN: the input ended inside it
  int body_error_status = 0;
  bool operator==(const Message&) const = default;
};

// The verdict on a whole stream.
struct StreamVerdict {
  std::vector<Message> messages;
  int result = kAgain;       // DONE: the input ended between messages (or finish() said DONE);
                             // AGAIN: it ended inside a head or body; ERROR
  int error_status = 0;      // after ERROR
  std::size_t consumed = 0;  // bytes framed in all: heads (head_length) and body calls' consumed
                             // (0 after ERROR)
  bool tunnel = false;       // stopped after a head with CHRONOS_HTTP_UPGRADE (response)
  bool operator==(const StreamVerdict&) const = default;
};

// An expected request head: DONE with these values (framing NONE, no Content-Length; set
// those members afterwards where the head has them).
inline Head request_head(std::string_view method, std::string_view target, std::string_view host,
                         int version_minor, unsigned flags, Fields fields,
                         std::size_t head_length) {
  Head h;
  h.result = kDone;
  h.method = method;
  h.target = target;
  h.host = host;
  h.version_minor = version_minor;
  h.flags = flags;
  h.head_length = head_length;
  h.field_count = fields.size();
  h.fields = std::move(fields);
  return h;
}

// An expected response head: DONE with these values.
inline Head response_head(int status, std::string_view reason, int version_minor, unsigned flags,
                          int framing, std::uint64_t content_length, Fields fields,
                          std::size_t head_length) {
  Head h;
  h.result = kDone;
  h.status = status;
  h.reason = reason;
  h.version_minor = version_minor;
  h.flags = flags;
  h.framing = framing;
  h.content_length = content_length;
  h.head_length = head_length;
  h.field_count = fields.size();
  h.fields = std::move(fields);
  return h;
}

// --- printing (Catch2 shows these when a comparison fails) --------------------------------

inline std::string escape(std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (out.size() > 600) out = out.substr(0, 300) + "..." + out.substr(out.size() - 200);
  return out;
}

inline const char* result_name(int r) {
  switch (r) {
    case kDone:
      return "DONE";
    case kError:
      return "ERROR";
    case kAgain:
      return "AGAIN";
    case kData:
      return "DATA";
    default:
      return "?";
  }
}

inline std::ostream& operator<<(std::ostream& os, const Fields& fields) {
  os << "{";
  for (std::size_t i = 0; i < fields.size(); ++i)
    os << (i ? ", " : "") << "\"" << escape(fields[i].name) << "\": \"" << escape(fields[i].value)
       << "\"";
  return os << "}";
}

inline std::ostream& operator<<(std::ostream& os, const Head& h) {
  os << result_name(h.result);
  if (h.result == kError) return os << " " << h.error_status;
  if (h.result != kDone) return os;
  os << " method=\"" << escape(h.method) << "\" target=\"" << escape(h.target) << "\" host=\""
     << escape(h.host) << "\" status=" << h.status << " reason=\"" << escape(h.reason)
     << "\" minor=" << h.version_minor << " flags=" << h.flags << " framing=" << h.framing
     << " content_length=" << h.content_length << " head_length=" << h.head_length
     << " field_count=" << h.field_count << " fields=" << h.fields;
  return os;
}

inline std::ostream& operator<<(std::ostream& os, const Message& m) {
  return os << "[" << m.head << " | body=\"" << escape(m.body) << "\" trailers=" << m.trailers
            << " body_result=" << result_name(m.body_result) << " " << m.body_error_status << "]";
}

inline std::ostream& operator<<(std::ostream& os, const StreamVerdict& v) {
  os << result_name(v.result) << " " << v.error_status << " consumed=" << v.consumed
     << (v.tunnel ? " tunnel" : "") << " messages:";
  for (const auto& m : v.messages) os << "\n  " << m;
  return os;
}

template <class T>
std::string to_text(const T& v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// --- one run ---------------------------------------------------------------------------------

// A fresh heap copy of exactly `s` (never a null pointer, even when empty).
class Copy {
 public:
  explicit Copy(std::string_view s)
      : bytes_(new char[s.size() + (s.empty() ? 1 : 0)]), n_(s.size()) {
    if (!s.empty()) std::memcpy(bytes_.get(), s.data(), s.size());
  }
  const char* data() const { return bytes_.get(); }
  std::size_t size() const { return n_; }

 private:
  std::unique_ptr<char[]> bytes_;
  std::size_t n_;
};

inline Fields stored_fields(const chronos_http_message& m) {
  Fields out;
  if (m.fields == nullptr) return out;
  for (std::size_t i = 0; i < m.field_count && i < m.fields_capacity; ++i)
    out.push_back({std::string(m.fields[i].name, m.fields[i].name_len),
                   std::string(m.fields[i].value, m.fields[i].value_len)});
  return out;
}

inline Head head_of(int r, const chronos_http_parser& p, const chronos_http_message& m) {
  Head h;
  h.result = r;
  if (r == kError) {
    h.error_status = p.error_status;
  } else if (r == kDone) {
    h.method.assign(m.method, m.method_len);
    h.target.assign(m.target, m.target_len);
    h.host.assign(m.host, m.host_len);
    h.status = m.status;
    h.reason.assign(m.reason, m.reason_len);
    h.version_minor = m.version_minor;
    h.flags = m.flags;
    h.framing = m.framing;
    h.content_length = m.content_length;
    h.head_length = m.head_length;
    h.field_count = m.field_count;
    h.fields = stored_fields(m);
  }
  return h;
}

inline void setup(chronos_http_parser& p, const Config& cfg) {
  chronos_http_parser_init(&p, cfg.options);
  chronos_http_parser_set_limits(&p, cfg.max_head_bytes, cfg.max_fields);
}

// One head call on a fresh copy of `bytes`. `method` is null for a request.
inline Head call_head(chronos_http_parser& p, std::string_view bytes, const std::string* method,
                      chronos_http_message& m) {
  const Copy copy(bytes);
  int r;
  if (method == nullptr) {
    r = chronos_http_parse_request(&p, copy.data(), copy.size(), &m);
  } else {
    const Copy mcopy(*method);
    r = chronos_http_parse_response(&p, copy.data(), copy.size(), mcopy.data(), mcopy.size(), &m);
  }
  return head_of(r, p, m);
}

// Offers bytes [0, cut) for each cut in turn (the last cut is bytes.size()), until a verdict.
inline Head run_head(std::string_view bytes, const std::string* method, const Config& cfg,
                     const std::vector<std::size_t>& cuts, std::size_t capacity) {
  chronos_http_parser p;
  setup(p, cfg);
  std::vector<chronos_http_field> storage(capacity > 0 ? capacity : 1);
  chronos_http_message m;
  Head h;
  for (const std::size_t cut : cuts) {
    chronos_http_message_init(&m, capacity > 0 ? storage.data() : nullptr, capacity);
    h = call_head(p, bytes.substr(0, cut), method, m);
    if (h.result != kAgain) break;
  }
  if (h.result == kError) {
    // The parser stays in error: any later call answers ERROR with the same status.
    chronos_http_message_init(&m, capacity > 0 ? storage.data() : nullptr, capacity);
    const Head again = call_head(p, bytes, method, m);
    if (!(again == h)) h.error_status = -1;  // marks the broken promise in the verdict
  }
  return h;
}

// The cuts of each delivery: whole, [0,k) then all for every k, one byte at a time.
template <class Run, class Verdict>
void check_all_splits(std::string_view bytes, const Verdict& whole, Run&& run) {
  const std::size_t n = bytes.size();
  for (std::size_t k = 0; k < n; ++k) {
    const Verdict v = run(std::vector<std::size_t>{k, n});
    if (!(v == whole)) {
      FAIL_CHECK("split at byte " << k << " of \"" << escape(bytes) << "\"\n whole: "
                                  << to_text(whole) << "\n split: " << to_text(v));
      break;
    }
  }
  std::vector<std::size_t> bytewise;
  for (std::size_t k = 1; k <= n; ++k) bytewise.push_back(k);
  if (n == 0) bytewise.push_back(0);
  const Verdict v = run(bytewise);
  if (!(v == whole))
    FAIL_CHECK("byte by byte, \"" << escape(bytes) << "\"\n whole: " << to_text(whole)
                                  << "\n bytewise: " << to_text(v));
}

inline Head head_all_splits(std::string_view bytes, const std::string* method, const Config& cfg) {
  const auto run = [&](const std::vector<std::size_t>& cuts) {
    return run_head(bytes, method, cfg, cuts, cfg.fields_capacity);
  };
  const Head whole = run({bytes.size()});
  check_all_splits(bytes, whole, run);
  // Without a fields array the verdict is the same but for the stored fields (when the array
  // was not what limited the count).
  const unsigned max_fields = cfg.max_fields ? cfg.max_fields : 100;
  if (cfg.fields_capacity >= max_fields) {
    Head bare = run_head(bytes, method, cfg, {bytes.size()}, 0);
    Head expected = whole;
    expected.fields.clear();
    if (!(bare == expected))
      FAIL_CHECK("without a fields array, \"" << escape(bytes) << "\"\n with: " << to_text(whole)
                                              << "\n without: " << to_text(bare));
  }
  return whole;
}

inline RequestVerdict parse_request_all_splits(std::string_view bytes, const Config& cfg = {}) {
  return head_all_splits(bytes, nullptr, cfg);
}

inline ResponseVerdict parse_response_all_splits(std::string_view bytes,
                                                 std::string_view method = "GET",
                                                 const Config& cfg = {}) {
  const std::string m(method);
  return head_all_splits(bytes, &m, cfg);
}

// --- streams ---------------------------------------------------------------------------------

struct StreamOptions {
  Config config;
  bool response = false;
  std::vector<std::string> methods{"GET"};  // responses: the i-th head's request method (the
                                            // last one repeats)
  bool finish = false;                      // call chronos_http_parser_finish after the last byte
};

inline Fields trailer_fields(const char* t, std::size_t n) {
  Fields out;
  const char* cursor = t;
  chronos_http_field f;
  while (chronos_http_next_field(&cursor, t + n, &f))
    out.push_back({std::string(f.name, f.name_len), std::string(f.value, f.value_len)});
  return out;
}

class StreamRun {
 public:
  StreamRun(std::string_view bytes, const StreamOptions& opt)
      : bytes_(bytes),
        opt_(opt),
        storage_(opt.config.fields_capacity ? opt.config.fields_capacity : 1) {
    setup(p_, opt.config);
  }

  StreamVerdict run(const std::vector<std::size_t>& cuts) {
    for (const std::size_t cut : cuts) {
      avail_ = cut;
      pump();
      if (stopped_) break;
    }
    if (!stopped_ && opt_.finish) {
      const int r = chronos_http_parser_finish(&p_);
      if (r == kError) {
        v_.result = kError;
        v_.error_status = p_.error_status;
        if (in_body_) {
          v_.messages.back().body_result = kError;
          v_.messages.back().body_error_status = p_.error_status;
        }
      } else {
        v_.result = r;
        if (in_body_ && r == kDone) v_.messages.back().body_result = kDone;
        if (r != kDone) v_.error_status = -1000 - r;  // finish answers DONE or ERROR only
      }
      stopped_ = true;
    }
    if (!stopped_) v_.result = (in_body_ || pos_ < bytes_.size()) ? kAgain : kDone;
    // After ERROR the connection is closed, and what the failing call reports as consumed
    // frames nothing: it is left out of the verdict (0).
    v_.consumed = v_.result == kError ? 0 : pos_;
    return v_;
  }

 private:
  void pump() {
    for (int guard = 0; guard < 1000000; ++guard) {
      if (in_body_) {
        const Copy copy(bytes_.substr(pos_, avail_ - pos_));
        chronos_http_body body;
        const int r = chronos_http_parse_body(&p_, copy.data(), copy.size(), &body);
        Message& msg = v_.messages.back();
        if (body.consumed > copy.size()) return fail_stop("consumed more than offered");
        pos_ += body.consumed;
        if (r == kData) {
          if (body.consumed == 0 || body.len == 0) return fail_stop("DATA without progress");
          msg.body.append(body.data, body.len);
          continue;
        }
        if (r == kAgain) return;
        if (r == kDone) {
          msg.trailers = trailer_fields(body.trailers, body.trailers_len);
          msg.body_result = kDone;
          in_body_ = false;
          if (chronos_http_parser_in_body(&p_)) return fail_stop("in_body after the body's DONE");
          continue;
        }
        msg.body_result = r;
        msg.body_error_status = p_.error_status;
        v_.result = r;
        v_.error_status = p_.error_status;
        stopped_ = true;
        return;
      }
      if (pos_ == avail_) return;
      const std::size_t i = v_.messages.size();
      const std::string& method =
          opt_.methods[i < opt_.methods.size() ? i : opt_.methods.size() - 1];
      chronos_http_message m;
      chronos_http_message_init(&m, opt_.config.fields_capacity ? storage_.data() : nullptr,
                                opt_.config.fields_capacity);
      const Head h =
          call_head(p_, bytes_.substr(pos_, avail_ - pos_), opt_.response ? &method : nullptr, m);
      if (h.result == kAgain) return;
      Message msg;
      msg.head = h;
      if (h.result != kDone) {
        msg.body_result = kAgain;
        v_.messages.push_back(msg);
        v_.result = h.result;
        v_.error_status = h.error_status;
        stopped_ = true;
        return;
      }
      pos_ += h.head_length;
      v_.messages.push_back(msg);
      if (h.framing != kNone) {
        in_body_ = true;
        if (!chronos_http_parser_in_body(&p_))
          return fail_stop("not in_body after a head with a body");
        continue;
      }
      // No body: parse_body answers DONE at once, consuming nothing.
      if (chronos_http_parser_in_body(&p_)) return fail_stop("in_body after a head without body");
      chronos_http_body body;
      const Copy copy(bytes_.substr(pos_, avail_ - pos_));
      const int r = chronos_http_parse_body(&p_, copy.data(), copy.size(), &body);
      v_.messages.back().body_result = r;
      if (r != kDone || body.consumed != 0) return fail_stop("parse_body without a body");
      if (opt_.response && (h.flags & kUpgrade)) {  // what follows is no longer HTTP/1.1
        v_.tunnel = true;
        stopped_ = true;
        return;
      }
    }
    fail_stop("no progress");
  }

  void fail_stop(const char* why) {
    v_.result = -99;  // never equal to a real verdict
    v_.error_status = -99;
    Message m;
    m.head.method = why;
    v_.messages.push_back(m);
    stopped_ = true;
  }

  std::string_view bytes_;
  StreamOptions opt_;
  chronos_http_parser p_;
  std::vector<chronos_http_field> storage_;
  StreamVerdict v_;
  std::size_t pos_ = 0, avail_ = 0;
  bool in_body_ = false, stopped_ = false;
};

inline StreamVerdict stream_all_splits(std::string_view bytes, const StreamOptions& opt) {
  const auto run = [&](const std::vector<std::size_t>& cuts) {
    StreamRun r(bytes, opt);
    return r.run(cuts);
  };
  const StreamVerdict whole = run({bytes.size()});
  check_all_splits(bytes, whole, run);
  return whole;
}

inline StreamVerdict parse_request_stream_all_splits(std::string_view bytes, bool finish = false,
                                                     const Config& cfg = {}) {
  StreamOptions opt;
  opt.config = cfg;
  opt.finish = finish;
  return stream_all_splits(bytes, opt);
}

inline StreamVerdict parse_response_stream_all_splits(std::string_view bytes,
                                                      std::vector<std::string> methods = {"GET"},
                                                      bool finish = false, const Config& cfg = {}) {
  StreamOptions opt;
  opt.config = cfg;
  opt.response = true;
  opt.methods = std::move(methods);
  opt.finish = finish;
  return stream_all_splits(bytes, opt);
}

// Fields as "Name: value" lines, each with CRLF.
inline std::string lines(std::initializer_list<std::string_view> ls) {
  std::string s;
  for (const auto l : ls) {
    s += l;
    s += "\r\n";
  }
  return s;
}

}  // namespace chronos_http_test
