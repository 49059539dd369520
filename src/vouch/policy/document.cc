#include "vouch/policy/document.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "kyverno_internal.h"
#include "vouch/base/json.h"

namespace vouch::policy {
namespace {

namespace bj = boost::json;

struct Converter {
  std::string_view source;
  const DocumentLimits& limits;
  size_t budget;
  int line_offset = 0;  // the first line of the document in the stream

  Error fail(const YAML::Node& n, std::string_view what) const {
    const YAML::Mark m = n.Mark();
    if (m.line >= 0) return invalid_input(fmt::format("{}: line {}: {}", source, m.line + 1 + line_offset, what));
    return invalid_input(fmt::format("{}: {}", source, what));
  }

  Result<bj::value> convert(const YAML::Node& n, unsigned depth) {
    if (depth > limits.max_depth) return fail(n, fmt::format("nested more than {} levels deep", limits.max_depth));
    if (budget == 0) return fail(n, "document too large (aliases expand to too many nodes)");
    --budget;
    switch (n.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return bj::value();
      case YAML::NodeType::Scalar: {
        auto v = jmespath::kyverno::yaml_scalar_to_json(n, false);
        if (!v.ok()) return fail(n, v.error().message);
        return v;
      }
      case YAML::NodeType::Sequence: {
        bj::array out;
        for (const auto& e : n) {
          VOUCH_ASSIGN_OR_RETURN(bj::value v, convert(e, depth + 1));
          out.push_back(std::move(v));
        }
        return bj::value(std::move(out));
      }
      case YAML::NodeType::Map: {
        bj::object out;
        for (const auto& kv : n) {
          std::string key = "null";
          if (kv.first.IsScalar()) {
            auto k = jmespath::kyverno::yaml_scalar_to_json(kv.first, true);
            if (!k.ok()) return fail(kv.first, k.error().message);
            key = std::string(k->get_string());
          } else if (!kv.first.IsNull()) {
            return fail(kv.first, "a mapping key is not a scalar");
          }
          VOUCH_ASSIGN_OR_RETURN(bj::value v, convert(kv.second, depth + 1));
          out[key] = std::move(v);
        }
        return bj::value(std::move(out));
      }
    }
    return bj::value();
  }
};

Status check_flow_depth(std::string_view text, std::string_view source, unsigned max_depth) {
  // yaml-cpp parses flow collections recursively: bound their nesting before it sees the text.
  unsigned flow = 0;
  for (char c : text) {
    if (c == '[' || c == '{') {
      if (++flow > max_depth) return invalid_input(fmt::format("{}: nested more than {} levels deep", source, max_depth));
    } else if ((c == ']' || c == '}') && flow > 0) {
      --flow;
    }
  }
  return ok_status();
}

}  // namespace

Result<std::vector<bj::value>> parse_documents(std::string_view text, std::string_view source,
                                               const DocumentLimits& limits) {
  if (text.size() > limits.max_bytes)
    return invalid_input(fmt::format("{}: larger than {} bytes", source, limits.max_bytes));
  VOUCH_RETURN_IF_ERROR(check_flow_depth(text, source, limits.max_depth));
  // Documents are split on "---" lines as Kubernetes' YAML reader does, and each is loaded on
  // its own (yaml-cpp's LoadAll can loop forever on some malformed streams).
  struct Chunk {
    std::string text;
    int first_line;
  };
  std::vector<Chunk> chunks{{"", 0}};
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos + 1);
    bool separator = false;
    if (line.starts_with("---")) {
      separator = line.substr(3).find_first_not_of(" \t\r\n") == std::string_view::npos;
    }
    if (separator) {
      chunks.push_back({"", line_no + 1});
    } else {
      chunks.back().text.append(line);
    }
    ++line_no;
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  std::vector<YAML::Node> nodes;
  for (const auto& c : chunks) {
    try {
      nodes.push_back(YAML::Load(c.text));
    } catch (const YAML::Exception& e) {
      if (e.mark.line >= 0)
        return invalid_input(fmt::format("{}: line {}: {}", source, e.mark.line + 1 + c.first_line, e.msg));
      return invalid_input(fmt::format("{}: {}", source, e.msg));
    } catch (const std::exception& e) {
      return invalid_input(fmt::format("{}: {}", source, e.what()));
    }
  }
  std::vector<bj::value> out;
  Converter conv{source, limits, limits.max_nodes};
  try {
    for (size_t i = 0; i < nodes.size(); ++i) {
      const YAML::Node& n = nodes[i];
      conv.line_offset = chunks[i].first_line;
      if (n.IsNull() || !n.IsDefined()) continue;
      VOUCH_ASSIGN_OR_RETURN(bj::value v, conv.convert(n, 0));
      out.push_back(std::move(v));
    }
  } catch (const std::exception& e) {
    return invalid_input(fmt::format("{}: {}", source, e.what()));
  }
  return out;
}

Result<bj::value> parse_document(std::string_view text, std::string_view source, const DocumentLimits& limits) {
  auto j = json::parse(text, {.max_bytes = limits.max_bytes, .max_depth = limits.max_depth});
  if (j.ok()) return j;
  VOUCH_ASSIGN_OR_RETURN(auto docs, parse_documents(text, source, limits));
  if (docs.empty()) return bj::value();
  if (docs.size() > 1) return invalid_input(fmt::format("{}: expected one document, found {}", source, docs.size()));
  return std::move(docs[0]);
}

}  // namespace vouch::policy
