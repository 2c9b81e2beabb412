// "Did you mean": the known word nearest to a misspelt one.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace chronos::config {

// Edit distance (Levenshtein, plus swaps of neighbours), for "did you mean" suggestions.
std::size_t edit_distance(const std::string& a, const std::string& b);

// The candidate closest to `word`, if it is close enough to be a likely typo; else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// "; did you mean 'x'?" for the closest candidate, or "" when none is close.
std::string suggestion(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace chronos::config
