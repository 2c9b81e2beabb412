// Counting what YAML aliases expand a document to, from the parser's events: each node counts
// once where it is written and once more for every alias that repeats it, so the total is what a
// walk of the loaded document would visit.
#include "config/Aliases.hpp"

#include <yaml-cpp/eventhandler.h>

#include <cstdint>
#include <map>
#include <sstream>
#include <vector>

#include "config/Wording.hpp"

namespace chronos::config {

namespace {

// A value as a walk sees it: nodes, and bytes of scalar text (keys included).
struct Size {
  std::uint64_t nodes = 0;
  std::uint64_t bytes = 0;
  Size& operator+=(const Size& other) {
    nodes += other.nodes;
    bytes += other.bytes;
    return *this;
  }
};

// Thrown out of yaml-cpp's parser, which stops there.
struct Refusal {
  YAML::Mark mark;
  std::string message;
};

class ExpansionCounter final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override { anchors_.clear(); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override { leaf(anchor, {1, 0}); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    leaf(anchor, {1, value.size()});
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(anchor);
  }
  void OnMapEnd() override { close(); }
  // Comes just before the event of the node that the anchor names.
  void OnAnchor(const YAML::Mark&, const std::string& name) override { next_name_ = name; }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override;

 private:
  struct Anchor {
    std::string name;
    Size size;
    bool complete = false;  // false while its own value is still being read
  };
  struct Collection {
    YAML::anchor_t anchor;
    Size size;
  };

  void add(const Size& size) {
    total_ += size;
    if (!open_.empty()) open_.back().size += size;
  }
  void name(YAML::anchor_t anchor, const Size& size, bool complete) {
    if (anchor == YAML::NullAnchor) return;
    anchors_[anchor] = {next_name_, size, complete};
  }
  void leaf(YAML::anchor_t anchor, const Size& size) {
    add(size);
    name(anchor, size, true);
  }
  void open(YAML::anchor_t anchor) {
    total_ += Size{1, 0};
    open_.push_back({anchor, {1, 0}});
    name(anchor, {}, false);
  }
  void close() {
    const Collection done = open_.back();
    open_.pop_back();
    if (done.anchor != YAML::NullAnchor) {
      anchors_[done.anchor].size = done.size;
      anchors_[done.anchor].complete = true;
    }
    if (!open_.empty()) open_.back().size += done.size;
  }

  std::map<YAML::anchor_t, Anchor> anchors_;  // of the current document
  std::vector<Collection> open_;              // the maps and lists being read, innermost last
  std::string next_name_;
  Size total_;  // the whole file's, every alias expanded
};

void ExpansionCounter::OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) {
  const Anchor& target = anchors_[anchor];  // yaml-cpp has refused an undefined one already
  const std::string alias = "YAML alias *" + target.name;
  if (!target.complete)
    throw Refusal{mark, alias + " stands inside the value it refers to: it would expand forever"};
  add(target.size);
  if (total_.nodes > kMaxConfigNodes) {
    throw Refusal{mark, alias + " expands the configuration past " +
                            std::to_string(kMaxConfigNodes) + " nodes"};
  }
  if (total_.bytes > kMaxConfigExpandedBytes) {
    throw Refusal{mark, alias + " expands the configuration past " +
                            mebibytes(kMaxConfigExpandedBytes) + " of text"};
  }
}

}  // namespace

bool aliases_within_limits(Reader& reader, const std::string& text) {
  std::istringstream input(text);
  YAML::Parser parser(input);
  ExpansionCounter counter;
  try {
    while (parser.HandleNextDocument(counter)) {
    }
  } catch (const Refusal& refusal) {
    reader.error(reader.at(refusal.mark), refusal.message);
    return false;
  }
  return true;
}

}  // namespace chronos::config
