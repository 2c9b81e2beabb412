// Counting what a document expands to, from the parser's events: each node counts once where it
// is written and once more for every alias that repeats it, so the total is what a walk of the
// loaded document would visit. Nothing is kept per node: the count stops at the limit before
// yaml-cpp has built a single node.
#include "config/Expansion.hpp"

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
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    leaf(mark, anchor, {1, 0});
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    leaf(mark, anchor, {1, value.size()});
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
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
    if (anchor != YAML::NullAnchor) anchors_[anchor] = {next_name_, size, complete};
  }
  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor, const Size& size) {
    add(size);
    within_limits(mark, nullptr);
    name(anchor, size, true);
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    total_.nodes += 1;
    within_limits(mark, nullptr);
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
  void within_limits(const YAML::Mark& mark, const Anchor* alias) const;

  std::map<YAML::anchor_t, Anchor> anchors_;  // of the current document
  std::vector<Collection> open_;              // the maps and lists being read, innermost last
  std::string next_name_;
  Size total_;  // the whole file's, every alias expanded
};

// Throws once the file is past a limit: at the alias that took it there, or at the node written
// out that did (only the nodes' count can pass there: the text is bounded by the file's size).
void ExpansionCounter::within_limits(const YAML::Mark& mark, const Anchor* alias) const {
  const std::string by = alias ? "YAML alias *" + alias->name + " expands the configuration past "
                               : std::string("the configuration has more than ");
  if (total_.nodes > kMaxConfigNodes)
    throw Refusal{mark, by + std::to_string(kMaxConfigNodes) + (alias ? " nodes" : " YAML nodes")};
  if (total_.bytes > kMaxConfigExpandedBytes)
    throw Refusal{mark, by + mebibytes(kMaxConfigExpandedBytes) + " of text"};
}

void ExpansionCounter::OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) {
  const Anchor& target = anchors_[anchor];  // yaml-cpp has refused an undefined one already
  if (!target.complete) {
    throw Refusal{mark, "YAML alias *" + target.name +
                            " stands inside the value it refers to: it would expand forever"};
  }
  add(target.size);
  within_limits(mark, &target);
}

}  // namespace

bool expansion_within_limits(Reader& reader, const std::string& text) {
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
