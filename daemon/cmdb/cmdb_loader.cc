#include "daemon/cmdb/cmdb_loader.h"

#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>

#include <yaml.h>

#include "daemon/yaml_util.h"

namespace vigil::cmdb {

namespace {

// A node tree costs about 4 KB per CI in yaml-cpp (4 GB for a million), so the loader reads
// libyaml's parser events into this small tree instead, and hands each entry of `cis` on as soon
// as it is complete: only one CI's nodes exist at a time. libyaml rather than yaml-cpp's parser:
// it reads a CMDB several times as fast (a million CIs: a restart's wait).
struct YamlNode {
  enum class Kind : uint8_t { kNull, kScalar, kSequence, kMap };
  Kind kind = Kind::kNull;
  YAML::Mark mark;
  std::string scalar;              // kScalar only
  std::vector<YamlNode> children;  // kSequence: the items; kMap: key, value, key, value, …

  bool isScalar() const { return kind == Kind::kScalar; }
  bool isSequence() const { return kind == Kind::kSequence; }
  bool isMap() const { return kind == Kind::kMap; }
  size_t pairs() const { return isMap() ? children.size() / 2 : 0; }
  const YamlNode& key(size_t i) const { return children[2 * i]; }
  const YamlNode& value(size_t i) const { return children[2 * i + 1]; }
  // The value of the first scalar key `name`, as yaml-cpp's node[name]; nullptr when absent.
  const YamlNode* find(std::string_view name) const {
    for (size_t i = 0; i < pairs(); ++i) {
      if (key(i).isScalar() && key(i).scalar == name) return &value(i);
    }
    return nullptr;
  }
};

Mark markOf(const YamlNode& node) {
  const YAML::Mark& m = node.mark;
  return {m.line >= 0 ? m.line + 1 : 1, m.column >= 0 ? m.column + 1 : 1};
}

YAML::Mark toMark(const yaml_mark_t& m) {
  YAML::Mark mark;
  mark.pos = static_cast<int>(m.index);
  mark.line = static_cast<int>(m.line);
  mark.column = static_cast<int>(m.column);
  return mark;
}

std::string_view anchorOf(const yaml_char_t* anchor) {
  return anchor ? std::string_view(reinterpret_cast<const char*>(anchor)) : std::string_view();
}

// A plain, untagged scalar that YAML reads as null (yaml-cpp's rule, which the loader had).
bool isNullScalar(const yaml_event_t& e) {
  if (e.data.scalar.style != YAML_PLAIN_SCALAR_STYLE || e.data.scalar.tag != nullptr) return false;
  const std::string_view v(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
  return v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL";
}

// Builds YamlNodes from libyaml's events. The items of the root's first `cis` sequence are
// passed to `on_ci` as they complete and not kept (that sequence stays empty in the tree).
class TreeBuilder {
 public:
  template <typename OnCi>
  explicit TreeBuilder(OnCi on_ci) : on_ci_(std::move(on_ci)) {}

  // The document's root; nullopt for an empty document.
  std::optional<YamlNode>& root() { return root_; }
  // The `cis` sequence whose items went to on_ci.
  const YamlNode* streamedCis() const { return streamed_cis_ ? root_->find("cis") : nullptr; }

  // One event of the first document; false once that document is complete.
  bool handle(const yaml_event_t& e) {
    const YAML::Mark mark = toMark(e.start_mark);
    switch (e.type) {
      case YAML_SCALAR_EVENT: {
        YamlNode node;
        node.mark = mark;
        if (!isNullScalar(e)) {
          node.kind = YamlNode::Kind::kScalar;
          node.scalar.assign(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
        }
        complete(std::move(node), anchorOf(e.data.scalar.anchor));
        return true;
      }
      case YAML_ALIAS_EVENT: {
        // An alias reads (and reports) as its anchor, as in yaml-cpp's tree.
        auto it = anchors_.find(std::string(anchorOf(e.data.alias.anchor)));
        YamlNode node;
        if (it != anchors_.end()) {
          node = it->second;
        } else {
          node.mark = mark;  // an alias of an enclosing node, still open: read as null
        }
        complete(std::move(node), {});
        return true;
      }
      case YAML_SEQUENCE_START_EVENT:
        open(YamlNode::Kind::kSequence, mark, anchorOf(e.data.sequence_start.anchor));
        return true;
      case YAML_MAPPING_START_EVENT:
        open(YamlNode::Kind::kMap, mark, anchorOf(e.data.mapping_start.anchor));
        return true;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        close();
        return true;
      case YAML_DOCUMENT_END_EVENT:
      case YAML_STREAM_END_EVENT:
        return false;
      default:  // the stream's and the document's start
        return true;
    }
  }

 private:
  struct Open {
    YamlNode node;
    std::string anchor;
    bool streams = false;
  };

  void open(YamlNode::Kind kind, const YAML::Mark& mark, std::string_view anchor) {
    Open o;
    o.node.kind = kind;
    o.node.mark = mark;
    o.anchor.assign(anchor);
    // The value of the root's first `cis` key (an anchored one is kept whole: aliases need it).
    if (kind == YamlNode::Kind::kSequence && anchor.empty() && open_.size() == 1 && open_[0].node.isMap()) {
      const YamlNode& root = open_[0].node;
      o.streams = root.children.size() % 2 == 1 && root.children.back().isScalar() &&
                  root.children.back().scalar == "cis" && root.find("cis") == nullptr;
      // find() looks at complete pairs only: the key just read is not one yet.
    }
    open_.push_back(std::move(o));
  }
  void close() {
    Open o = std::move(open_.back());
    open_.pop_back();
    if (o.streams) streamed_cis_ = true;
    complete(std::move(o.node), o.anchor);
  }
  void complete(YamlNode node, std::string_view anchor) {
    if (!anchor.empty()) anchors_[std::string(anchor)] = node;
    if (open_.empty()) {
      root_ = std::move(node);
    } else if (open_.back().streams) {
      on_ci_(node);
    } else {
      open_.back().node.children.push_back(std::move(node));
    }
  }

  std::function<void(const YamlNode&)> on_ci_;
  std::vector<Open> open_;
  std::unordered_map<std::string, YamlNode> anchors_;
  std::optional<YamlNode> root_;
  bool streamed_cis_ = false;
};

class FileParser {
 public:
  FileParser(std::string_view file, CmdbDocument& out, std::string& errors)
      : file_(file),
        origins_(std::make_shared<CiOriginTable>(std::string(file))),
        out_(out),
        errors_(errors),
        cis_before_(out.cis.size()), errors_before_(errors.size()) {}

  // Reads the first document of the text or file: the entries of `cis` while the parser reads
  // them, the rest at the end. A syntax error drops what this file added and is its only error,
  // as when the file was loaded whole. A file is read as it is parsed, not held whole.
  void parse(std::string_view yaml) {
    Parser parser;
    yaml_parser_set_input_string(&parser.p, reinterpret_cast<const unsigned char*>(yaml.data()), yaml.size());
    parse(parser);
  }
  void parse(FILE* file) {
    Parser parser;
    yaml_parser_set_input_file(&parser.p, file);
    parse(parser);
  }

 private:
  struct Parser {
    Parser() { yaml_parser_initialize(&p); }
    ~Parser() { yaml_parser_delete(&p); }
    Parser(const Parser&) = delete;
    Parser& operator=(const Parser&) = delete;
    yaml_parser_t p;
  };

  void parse(Parser& parser) {
    TreeBuilder builder([this](const YamlNode& item) { parseCi(item); });
    for (bool more = true; more;) {
      yaml_event_t event;
      if (!yaml_parser_parse(&parser.p, &event)) {
        dropThisFile();
        const std::string problem = parser.p.problem ? parser.p.problem : "unknown problem";
        const bool unreadable = parser.p.error == YAML_READER_ERROR;  // e.g. a directory
        add(yamlError(file_, unreadable ? YAML::Mark() : toMark(parser.p.problem_mark),
                      unreadable ? "cannot read file: " + problem : problem));
        return;
      }
      more = builder.handle(event);
      yaml_event_delete(&event);
    }
    if (builder.root()) parseRoot(*builder.root(), builder.streamedCis());
  }

  void parseRoot(const YamlNode& root, const YamlNode* streamed_cis) {
    if (root.kind == YamlNode::Kind::kNull) return;  // an empty file is allowed
    if (Status s = checkKeys(root, {"cis", "label_rules"}); !s.isOk()) {
      dropThisFile();  // reported alone, as when the CIs were read after the whole file
      add(s);
      return;
    }
    if (const YamlNode* cis = root.find("cis"); cis != nullptr && cis != streamed_cis) {
      if (!cis->isSequence()) {
        add(error(*cis, "'cis' must be a list of CIs"));
      } else {
        for (const YamlNode& item : cis->children) parseCi(item);
      }
    }
    if (const YamlNode* rules = root.find("label_rules")) {
      if (!rules->isSequence()) {
        add(error(*rules, "'label_rules' must be a list"));
      } else {
        for (const YamlNode& rule : rules->children) parseLabelRule(rule);
      }
    }
  }

  void dropThisFile() {
    out_.cis.resize(cis_before_);
    errors_.resize(errors_before_);
  }
  bool add(const Status& s) {
    if (s.isOk()) return true;
    if (!errors_.empty()) errors_ += '\n';
    errors_ += s.message();
    return false;
  }
  template <typename T>
  bool take(Result<T> r, T& out) {
    if (!r) return add(r.error());
    out = std::move(*r);
    return true;
  }

  // yaml_util's readers, for YamlNodes (same messages).
  Status error(const YamlNode& node, std::string_view message) const {
    return yamlError(file_, node.mark, message);
  }
  Status checkKeys(const YamlNode& map, std::initializer_list<std::string_view> allowed) const {
    if (!map.isMap()) return error(map, "expected a mapping");
    for (size_t i = 0; i < map.pairs(); ++i) {
      if (Status s = checkKey(file_, map.key(i).mark, map.key(i).scalar, allowed); !s.isOk()) return s;
    }
    return Status::ok();
  }
  Result<std::string> readString(const YamlNode& node) const {
    if (!node.isScalar()) return fail(error(node, "expected a string"));
    return node.scalar;
  }
  Result<int64_t> readInt(const YamlNode& node, int64_t min, int64_t max) const {
    if (!node.isScalar()) return fail(error(node, "expected an integer"));
    return parseInt(file_, node.mark, node.scalar, min, max);
  }

  // A list of strings (a single string is a list of one); marks are appended when given.
  void stringList(const YamlNode& node, std::vector<std::string>& out, std::deque<Mark>* marks) {
    if (node.isScalar()) {
      out.push_back(node.scalar);
      if (marks != nullptr) marks->push_back(markOf(node));
      return;
    }
    if (!node.isSequence()) {
      add(error(node, "expected a string or a list of strings"));
      return;
    }
    for (const YamlNode& item : node.children) {
      std::string s;
      if (!take(readString(item), s)) continue;
      out.push_back(std::move(s));
      if (marks != nullptr) marks->push_back(markOf(item));
    }
  }

  void readCompact(const YamlNode& node, CompactString& out) {
    if (Result<std::string> s = readString(node)) {
      out = *s;
    } else {
      add(s.error());
    }
  }

  void labelMap(const YamlNode& node, Labels& out) {
    if (!node.isMap()) {
      add(error(node, "expected a mapping of label names to values"));
      return;
    }
    for (size_t i = 0; i < node.pairs(); ++i) {
      std::string value;
      if (take(readString(node.value(i)), value)) out.set(node.key(i).scalar, value);
    }
  }

  void parseCi(const YamlNode& node) {
    if (!node.isMap()) {
      add(error(node, "a CI must be a mapping"));
      return;
    }
    if (!add(checkKeys(node, {"id", "name", "class", "aliases", "labels", "assignment_group", "criticality",
                              "location", "depends_on", "members"}))) {
      return;
    }
    ConfigurationItem ci;
    CiOrigin origin;
    origin.table = origins_.get();
    origin.item = markOf(node);
    std::deque<Mark>& marks = origins_->entries;
    if (const YamlNode* id = node.find("id")) {
      origin.id = markOf(*id);
      if (take(readString(*id), ci.id) && ci.id.empty()) add(error(*id, "'id' must not be empty"));
    } else {
      add(error(node, "CI without 'id'"));
    }
    if (const YamlNode* n = node.find("name")) readCompact(*n, ci.name);
    const YamlNode* class_node = node.find("class");
    if (class_node != nullptr) {
      std::string name;
      if (take(readString(*class_node), name)) {
        if (const auto parsed = parseCiClass(name)) {
          ci.ci_class = *parsed;
        } else {
          add(error(*class_node, "unknown class '" + name + "' (expected one of: " + std::string(ciClassNames()) + ")"));
        }
      }
    } else {
      add(error(node, "CI '" + ci.id + "' without 'class'"));
    }
    origin.entries_begin = static_cast<uint32_t>(marks.size());
    if (const YamlNode* a = node.find("aliases")) stringList(*a, ci.aliases, &marks);
    if (const YamlNode* l = node.find("labels")) labelMap(*l, ci.labels);
    if (const YamlNode* g = node.find("assignment_group")) readCompact(*g, ci.assignment_group);
    if (const YamlNode* c = node.find("criticality")) {
      int64_t value = 0;
      if (take(readInt(*c, kMostCritical, kLeastCritical), value)) ci.criticality = static_cast<uint8_t>(value);
    }
    if (const YamlNode* l = node.find("location")) readCompact(*l, ci.location);
    origin.depends_on_begin = static_cast<uint32_t>(marks.size());
    if (const YamlNode* d = node.find("depends_on")) stringList(*d, ci.depends_on, &marks);
    origin.members_begin = static_cast<uint32_t>(marks.size());
    if (const YamlNode* m = node.find("members")) {
      stringList(*m, ci.members, &marks);
      if (ci.ci_class != CiClass::kService && class_node != nullptr) {
        add(error(*m, "'members' is only allowed on CIs of class service"));
        ci.members.clear();
        marks.resize(origin.members_begin);
      }
    }
    origin.entries_end = static_cast<uint32_t>(marks.size());
    // Shares the table's ownership and points at its record: no allocation per CI.
    origins_->origins.push_back(origin);
    ci.origin = std::shared_ptr<const CiOrigin>(origins_, &origins_->origins.back());
    out_.cis.push_back(std::move(ci));
  }

  void parseLabelRule(const YamlNode& node) {
    if (!add(checkKeys(node, {"match", "ci"}))) return;
    LabelRule rule;
    rule.origin = std::make_pair(std::string(file_), markOf(node));
    const YamlNode* match = node.find("match");
    const YamlNode* ci = node.find("ci");
    if (match == nullptr || ci == nullptr) {
      add(error(node, "a label rule needs 'match' and 'ci'"));
      return;
    }
    if (!match->isMap() || match->pairs() == 0) {
      add(error(*match, "'match' must be a non-empty mapping of label names to values"));
      return;
    }
    for (size_t i = 0; i < match->pairs(); ++i) {
      std::string value;
      if (take(readString(match->value(i)), value)) rule.match.emplace_back(match->key(i).scalar, std::move(value));
    }
    if (take(readString(*ci), rule.ci)) out_.label_rules.push_back(std::move(rule));
  }

  std::string_view file_;
  std::shared_ptr<CiOriginTable> origins_;  // the CIs' origins, one table for the file
  CmdbDocument& out_;
  std::string& errors_;
  const size_t cis_before_;
  const size_t errors_before_;
};

// The load frees a CI's parse nodes and the CI list's old buffers as it grows; hand what malloc
// keeps of them back so that the daemon's RSS is its live data.
void releaseFreedHeap() {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

std::vector<std::string> expandCmdbGlobs(const std::vector<std::string>& globs, const std::string& base_dir,
                                         std::string& errors) {
  std::vector<std::string> missing;
  auto files = expandGlobs(globs, base_dir, missing);
  for (const auto& m : missing) errors += (errors.empty() ? "" : "\n") + m + ":1:1: cannot open file";
  return files;
}

}  // namespace

void parseCmdbText(std::string_view yaml, std::string_view file_name, CmdbDocument& out,
                   std::string& errors) {
  FileParser(file_name, out, errors).parse(yaml);
}

Result<std::shared_ptr<const CiSnapshot>> loadCmdbFiles(const std::vector<std::string>& globs,
                                                        const std::string& base_dir) {
  std::string errors;
  CmdbDocument doc;
  for (const std::string& file : expandCmdbGlobs(globs, base_dir, errors)) {
    struct Close {
      void operator()(FILE* f) const { std::fclose(f); }
    };
    std::unique_ptr<FILE, Close> in(std::fopen(file.c_str(), "rb"));
    if (!in) {
      errors += (errors.empty() ? "" : "\n") + file + ":1:1: cannot open file";
      continue;
    }
    FileParser(file, doc, errors).parse(in.get());
  }
  releaseFreedHeap();
  if (!errors.empty()) return fail(Status::invalidArgument(std::move(errors)));
  return buildSnapshot(std::move(doc.cis), std::move(doc.label_rules));
}

Result<std::shared_ptr<const CiSnapshot>> loadCmdbString(std::string_view yaml,
                                                         std::string_view file_name) {
  std::string errors;
  CmdbDocument doc;
  parseCmdbText(yaml, file_name, doc, errors);
  if (!errors.empty()) return fail(Status::invalidArgument(std::move(errors)));
  return buildSnapshot(std::move(doc.cis), std::move(doc.label_rules));
}

}  // namespace vigil::cmdb
