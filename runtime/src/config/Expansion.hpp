// What a document expands to, bounded: its nodes and text are counted from yaml-cpp's parse
// events, every YAML alias expanded, before the document is loaded and walked. yaml-cpp shares
// an aliased node rather than copying it, so loading stays linear, but every walk (the plugin
// config's JSON, the key tables) visits an alias as often as it occurs: nine nested lists of
// nine aliases ("billion laughs") are 9^9 nodes to visit in half a kilobyte of text.
#pragma once

#include <string>

#include "config/Reader.hpp"

namespace chronos::config {

// False, after reporting where, if the document has more than kMaxConfigNodes nodes or
// kMaxConfigExpandedBytes of scalar text, aliases expanded (the alias that crosses the limit,
// else the node), or an alias stands inside the value it names (it would expand forever).
// Throws YAML::Exception on a syntax error, as YAML::Load does.
bool expansion_within_limits(Reader& reader, const std::string& text);

}  // namespace chronos::config
