#include "http_parser.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace chronos::http {
namespace {

// RFC 9110 token characters (header names, methods), as a table: the parser's hottest test.
constexpr auto kTokenChars = [] {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = table[c - 'a' + 'A'] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

constexpr bool is_tchar(unsigned char c) { return kTokenChars[c]; }

// Field values: SP, HTAB, visible ASCII and obs-text; never CR, LF, NUL or other controls.
constexpr bool is_field_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

// The request target: anything visible (obs-text included, as nginx does), no spaces.
constexpr bool is_target_char(unsigned char c) { return c > 0x20 && c != 0x7f; }

template <class Predicate>
bool all_of(std::string_view s, Predicate pred) {
  for (char c : s)
    if (!pred(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Case-insensitive comparison with a lower-case ASCII literal.
bool equals_lower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// Calls fn(element) for each non-empty element of a comma-separated list, OWS trimmed.
template <class Fn>
void for_each_element(std::string_view list, Fn fn) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view element = trim_ows(list.substr(0, comma));
    if (!element.empty()) fn(element);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// Takes the next line off `rest`: up to LF, without the LF and one CR before it.
std::string_view next_line(std::string_view& rest) {
  const std::size_t lf = rest.find('\n');
  std::string_view line = rest.substr(0, lf);
  rest.remove_prefix(lf == std::string_view::npos ? rest.size() : lf + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// method SP request-target SP HTTP/1.x — exactly one SP each.
bool parse_request_line(std::string_view line, Request& request) {
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return false;
  request.method = line.substr(0, sp1);
  line.remove_prefix(sp1 + 1);
  const std::size_t sp2 = line.find(' ');
  if (sp2 == std::string_view::npos) return false;
  request.target = line.substr(0, sp2);
  const std::string_view version = line.substr(sp2 + 1);
  if (request.method.empty() || !all_of(request.method, is_tchar)) return false;
  if (request.target.empty() || !all_of(request.target, is_target_char)) return false;
  // Major 1 only; a later 1.x is served as 1.1 (RFC 9110 §6.2).
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || version[7] < '0' ||
      version[7] > '9')
    return false;
  request.minor_version = version[7] - '0';
  return true;
}

// Content-Length: 1*DIGIT, below 2^63 so that every consumer can hold it in a signed type.
bool parse_content_length(std::string_view value, std::uint64_t& out) {
  if (value.empty() || value.size() > 18) return false;
  std::uint64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out = n;
  return true;
}

// The head between the first byte of the request line and the blank line, inclusive.
ParseStatus parse_head(std::string_view head, Request& request) {
  if (!parse_request_line(next_line(head), request)) return ParseStatus::bad_request;

  bool close = false, keep_alive = false;
  bool has_length = false;
  std::uint64_t length = 0;
  int codings = 0, chunked = 0;  // Transfer-Encoding elements, and how many say chunked
  bool chunked_last = false;

  for (;;) {
    const std::string_view line = next_line(head);
    if (line.empty()) break;  // the blank line: the head's end is known to be here
    if (line.front() == ' ' || line.front() == '\t') return ParseStatus::bad_request;  // fold
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return ParseStatus::bad_request;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim_ows(line.substr(colon + 1));
    if (name.empty() || !all_of(name, is_tchar) || !all_of(value, is_field_char))
      return ParseStatus::bad_request;

    if (equals_lower(name, "connection")) {
      for_each_element(value, [&](std::string_view option) {
        close |= equals_lower(option, "close");
        keep_alive |= equals_lower(option, "keep-alive");
      });
    } else if (equals_lower(name, "content-length")) {
      std::uint64_t n = 0;
      if (!parse_content_length(value, n) || (has_length && n != length))
        return ParseStatus::bad_request;
      has_length = true;
      length = n;
    } else if (equals_lower(name, "transfer-encoding")) {
      for_each_element(value, [&](std::string_view coding) {
        coding = trim_ows(coding.substr(0, coding.find(';')));  // drop parameters
        ++codings;
        chunked_last = equals_lower(coding, "chunked");
        chunked += chunked_last;
      });
    }
  }

  request.keep_alive = request.minor_version >= 1 ? !close : keep_alive && !close;
  request.body = BodyFraming::none;
  request.content_length = 0;
  if (codings > 0) {
    // RFC 9112 §6.1-6.3: a body we cannot delimit with certainty is a smuggling risk: refuse.
    if (request.minor_version == 0 || has_length || !chunked_last || chunked != 1)
      return ParseStatus::bad_request;
    request.body = BodyFraming::chunked;
  } else if (has_length && length > 0) {
    request.body = BodyFraming::content_length;
    request.content_length = length;
  }
  return ParseStatus::complete;
}

}  // namespace

ParseStatus RequestParser::parse(std::string_view data, Request& request) noexcept {
  // Every decision depends on the first kMaxHeadBytes only (and on whether more arrived), so the
  // answer does not depend on how the bytes were split across calls.
  const std::string_view view = data.substr(0, std::min(data.size(), kMaxHeadBytes));
  const std::size_t n = view.size();

  std::size_t start = 0;  // after empty lines before the request line (RFC 9112 §2.2)
  for (;;) {
    if (start < n && view[start] == '\n') {
      start += 1;
    } else if (start + 1 < n && view[start] == '\r' && view[start + 1] == '\n') {
      start += 2;
    } else {
      break;
    }
  }

  // Search for an empty line after the request line, from where the last call stopped.
  std::size_t end = 0;
  std::size_t i = std::min(std::max(scanned_, start), n);
  for (;;) {
    const void* lf = std::memchr(view.data() + i, '\n', n - i);
    if (lf == nullptr) {
      scanned_ = n;
      break;
    }
    const std::size_t j = static_cast<std::size_t>(static_cast<const char*>(lf) - view.data());
    if (j + 1 < n && view[j + 1] == '\n') {
      end = j + 2;
      break;
    }
    if (j + 2 < n && view[j + 1] == '\r' && view[j + 2] == '\n') {
      end = j + 3;
      break;
    }
    if (j + 1 >= n || (j + 2 >= n && view[j + 1] == '\r')) {
      scanned_ = j;  // cannot tell yet whether an empty line follows: look again next time
      break;
    }
    i = j + 1;
  }

  if (end != 0) {
    scanned_ = 0;
    const ParseStatus status = parse_head(view.substr(start, end - start), request);
    request.head_length = end;
    return status;
  }

  // No end of head yet. Refuse a bad request line now rather than after 8 KiB more: a client
  // speaking something else (TLS, a typo) gets its 400 at once.
  const std::size_t lf = view.find('\n', start);
  if (lf != std::string_view::npos) {
    std::string_view rest = view.substr(start, lf + 1 - start);
    Request probe;
    if (!parse_request_line(next_line(rest), probe)) {
      scanned_ = 0;
      return ParseStatus::bad_request;
    }
  }
  if (data.size() > kMaxHeadBytes) {
    scanned_ = 0;
    return ParseStatus::head_too_large;
  }
  return ParseStatus::need_more;
}

ChunkedBodySkipper::Status ChunkedBodySkipper::feed(std::string_view data,
                                                    std::size_t& used) noexcept {
  std::size_t i = 0;
  const auto fail = [&] {
    used = i;
    return Status::bad;
  };
  while (i < data.size()) {
    const unsigned char c = static_cast<unsigned char>(data[i]);
    switch (state_) {
      case State::data: {
        const std::size_t take =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size() - i));
        i += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::data_end;
        continue;
      }
      case State::size: {
        int digit = -1;
        if (c >= '0' && c <= '9') digit = c - '0';
        if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
        if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
        if (digit >= 0) {
          if (remaining_ >> 59) return fail();  // keeps sizes below 2^63
          remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(digit);
          ++digits_;
          ++i;
          continue;
        }
        // After the digits only BWS, an extension (;) or the end of the line may follow.
        if (digits_ == 0 || std::strchr("; \t\r\n", c) == nullptr || c == 0) return fail();
        state_ = State::extension;
        continue;  // look at c again in the new state
      }
      case State::extension:
        ++i;
        if (c == '\r') {
          state_ = State::size_lf;
        } else if (c == '\n') {
          digits_ = 0;
          state_ = remaining_ == 0 ? State::trailer_start : State::data;
        } else if (!is_field_char(c)) {
          return fail();
        }
        continue;
      case State::size_lf:
        if (c != '\n') return fail();
        ++i;
        digits_ = 0;
        state_ = remaining_ == 0 ? State::trailer_start : State::data;
        continue;
      case State::data_end:
        if (c != '\r' && c != '\n') return fail();
        ++i;
        state_ = c == '\r' ? State::data_lf : State::size;
        continue;
      case State::data_lf:
        if (c != '\n') return fail();
        ++i;
        state_ = State::size;
        continue;
      case State::trailer_start:
        ++i;
        if (c == '\n') {
          used = i;
          return Status::done;
        }
        state_ = c == '\r' ? State::trailer_lf : State::trailer;
        continue;
      case State::trailer:
        ++i;
        if (c == '\n') state_ = State::trailer_start;
        continue;
      case State::trailer_lf:
        if (c != '\n') return fail();
        used = i + 1;
        return Status::done;
    }
  }
  used = i;
  return Status::need_more;
}

}  // namespace chronos::http
