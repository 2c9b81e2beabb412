// YAML aliases, bounded: what a document expands to is counted from yaml-cpp's parse events
// before the document is loaded and walked. yaml-cpp shares an aliased node rather than copying
// it, so loading stays linear, but every walk (the plugin config's JSON, the key tables) visits
// an alias as often as it occurs: nine nested lists of nine aliases are 9^9 nodes to visit.
#pragma once

#include <string>

#include "config/Reader.hpp"

namespace chronos::config {

// False, after reporting at the alias, if the document's aliases expand it past kMaxConfigNodes
// nodes or kMaxConfigExpandedBytes of scalar text, or an alias stands inside the value it names
// (which would expand forever). Throws YAML::Exception on a syntax error, as YAML::Load does.
bool aliases_within_limits(Reader& reader, const std::string& text);

}  // namespace chronos::config
