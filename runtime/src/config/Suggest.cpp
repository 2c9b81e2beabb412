// "Did you mean": edit distance over the known words.
#include "config/Suggest.hpp"

#include <algorithm>
#include <cctype>

#include "config/Wording.hpp"

namespace chronos::config {

// Optimal string alignment distance: Levenshtein plus swaps of neighbours, the commonest typo
// ("ecoh" for "echo" is one edit, not two).
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  // Short words allow fewer edits, or every three-letter typo would "match" every short key.
  const std::size_t allowed = word.size() < 5 ? 1 : word.size() < 9 ? 2 : 3;
  std::string best;
  std::size_t best_distance = allowed + 1;
  auto lower = [](std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  };
  for (const auto& candidate : candidates) {
    // Case is not a typo worth counting: "INFO" suggests "info".
    const std::size_t distance = edit_distance(lower(word), lower(candidate));
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string suggestion(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string best = closest_match(word, candidates);
  return best.empty() ? std::string() : "; did you mean " + squote(best) + "?";
}

}  // namespace chronos::config
