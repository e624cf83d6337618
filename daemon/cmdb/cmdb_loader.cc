#include "daemon/cmdb/cmdb_loader.h"

#include <malloc.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "daemon/yaml_util.h"

namespace vigil::cmdb {

namespace {

Mark markOf(const YAML::Node& node) {
  const YAML::Mark m = node.Mark();
  return {m.line >= 0 ? m.line + 1 : 1, m.column >= 0 ? m.column + 1 : 1};
}

class FileParser {
 public:
  FileParser(std::string_view file, CmdbDocument& out, std::string& errors)
      : file_(file), out_(out), errors_(errors) {}

  void parse(const YAML::Node& root) {
    if (root.IsNull()) return;  // an empty file is allowed
    if (!add(checkKeys(file_, root, {"cis", "label_rules"}))) return;
    if (const YAML::Node cis = root["cis"]) {
      if (!cis.IsSequence()) {
        add(yamlError(file_, cis, "'cis' must be a list of CIs"));
      } else {
        for (const YAML::Node& item : cis) parseCi(item);
      }
    }
    if (const YAML::Node rules = root["label_rules"]) {
      if (!rules.IsSequence()) {
        add(yamlError(file_, rules, "'label_rules' must be a list"));
      } else {
        for (const YAML::Node& rule : rules) parseLabelRule(rule);
      }
    }
  }

 private:
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

  // A list of strings (a single string is a list of one); marks are appended when given.
  void stringList(const YAML::Node& node, std::vector<std::string>& out, std::vector<Mark>* marks) {
    if (node.IsScalar()) {
      out.push_back(node.Scalar());
      if (marks != nullptr) marks->push_back(markOf(node));
      return;
    }
    if (!node.IsSequence()) {
      add(yamlError(file_, node, "expected a string or a list of strings"));
      return;
    }
    for (const YAML::Node& item : node) {
      std::string s;
      if (!take(readString(file_, item), s)) continue;
      out.push_back(std::move(s));
      if (marks != nullptr) marks->push_back(markOf(item));
    }
  }

  void labelMap(const YAML::Node& node, Labels& out) {
    if (!node.IsMap()) {
      add(yamlError(file_, node, "expected a mapping of label names to values"));
      return;
    }
    for (const auto& kv : node) {
      std::string value;
      if (take(readString(file_, kv.second), value)) out.set(kv.first.Scalar(), value);
    }
  }

  void parseCi(const YAML::Node& node) {
    if (!node.IsMap()) {
      add(yamlError(file_, node, "a CI must be a mapping"));
      return;
    }
    if (!add(checkKeys(file_, node,
                       {"id", "name", "class", "aliases", "labels", "assignment_group",
                        "criticality", "location", "depends_on", "members"}))) {
      return;
    }
    ConfigurationItem ci;
    CiOrigin origin;
    origin.file = std::string(file_);
    origin.item = markOf(node);
    if (const YAML::Node id = node["id"]) {
      origin.id = markOf(id);
      if (take(readString(file_, id), ci.id) && ci.id.empty()) {
        add(yamlError(file_, id, "'id' must not be empty"));
      }
    } else {
      add(yamlError(file_, node, "CI without 'id'"));
    }
    if (const YAML::Node n = node["name"]) take(readString(file_, n), ci.name);
    if (const YAML::Node c = node["class"]) {
      std::string name;
      if (take(readString(file_, c), name)) {
        if (const auto parsed = parseCiClass(name)) {
          ci.ci_class = *parsed;
        } else {
          add(yamlError(file_, c, "unknown class '" + name + "' (expected one of: " +
                                      std::string(ciClassNames()) + ")"));
        }
      }
    } else {
      add(yamlError(file_, node, "CI '" + ci.id + "' without 'class'"));
    }
    if (const YAML::Node a = node["aliases"]) stringList(a, ci.aliases, &origin.aliases);
    if (const YAML::Node l = node["labels"]) labelMap(l, ci.labels);
    if (const YAML::Node g = node["assignment_group"]) take(readString(file_, g), ci.assignment_group);
    if (const YAML::Node c = node["criticality"]) {
      int64_t value = 0;
      if (take(readInt(file_, c, kMostCritical, kLeastCritical), value)) {
        ci.criticality = static_cast<uint8_t>(value);
      }
    }
    if (const YAML::Node l = node["location"]) take(readString(file_, l), ci.location);
    if (const YAML::Node d = node["depends_on"]) stringList(d, ci.depends_on, &origin.depends_on);
    if (const YAML::Node m = node["members"]) {
      stringList(m, ci.members, &origin.members);
      if (ci.ci_class != CiClass::kService && node["class"]) {
        add(yamlError(file_, m, "'members' is only allowed on CIs of class service"));
        ci.members.clear();
        origin.members.clear();
      }
    }
    ci.origin = std::make_shared<const CiOrigin>(std::move(origin));
    out_.cis.push_back(std::move(ci));
  }

  void parseLabelRule(const YAML::Node& node) {
    if (!add(checkKeys(file_, node, {"match", "ci"}))) return;
    LabelRule rule;
    rule.origin = std::make_pair(std::string(file_), markOf(node));
    const YAML::Node match = node["match"];
    const YAML::Node ci = node["ci"];
    if (!match || !ci) {
      add(yamlError(file_, node, "a label rule needs 'match' and 'ci'"));
      return;
    }
    if (!match.IsMap() || match.size() == 0) {
      add(yamlError(file_, match, "'match' must be a non-empty mapping of label names to values"));
      return;
    }
    for (const auto& kv : match) {
      std::string value;
      if (take(readString(file_, kv.second), value)) {
        rule.match.emplace_back(kv.first.Scalar(), std::move(value));
      }
    }
    if (take(readString(file_, ci), rule.ci)) out_.label_rules.push_back(std::move(rule));
  }

  std::string_view file_;
  CmdbDocument& out_;
  std::string& errors_;
};

// yaml-cpp's node tree of a large CMDB takes about 4 KB per CI (400 MB for 100 k CIs), freed
// once parsed but kept by malloc in the heap; hand it back so the daemon's RSS is its live data.
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
  auto root = loadYamlString(yaml, file_name);
  if (!root) {
    errors += (errors.empty() ? "" : "\n") + root.error().message();
    return;
  }
  try {
    FileParser(file_name, out, errors).parse(*root);
  } catch (const YAML::Exception& e) {  // yaml-cpp throws on odd node shapes; keep it here
    errors += (errors.empty() ? "" : "\n") + yamlError(file_name, e.mark, e.msg).message();
  }
}

Result<std::shared_ptr<const CiSnapshot>> loadCmdbFiles(const std::vector<std::string>& globs,
                                                        const std::string& base_dir) {
  std::string errors;
  CmdbDocument doc;
  for (const std::string& file : expandCmdbGlobs(globs, base_dir, errors)) {
    std::ifstream in(file);
    if (!in) {
      errors += (errors.empty() ? "" : "\n") + file + ":1:1: cannot open file";
      continue;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    parseCmdbText(buffer.str(), file, doc, errors);
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
