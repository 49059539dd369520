// References (Kyverno's `$(...)`, pkg/engine/variables substituteReferences): a string in a
// rule may name another value of the same rule document by a path, relative to the string's
// own position ("$(./../../limits/memory)") or absolute ("$(/spec/x)"), optionally with an
// operator inside ("$(<=./../x)"). They are resolved before variables, against the document as
// written; `\$(` escapes one.
#include "engine_internal.h"
#include "kyverno_internal.h"

#include <fmt/format.h>
#include <re2/re2.h>

namespace vouch::policy {

namespace engine_internal {

namespace {

// Go's path.Join: empty elements are ignored; the result is cleaned.
std::string join_path(const std::vector<std::string>& parts) {
  std::string joined;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    if (!joined.empty()) joined += '/';
    joined += part;
  }
  return joined.empty() ? "" : jmespath::kyverno::go_clean(joined);
}

// Kyverno's anchor.RemoveAnchorsFromPath: "/spec/=(containers)/0" reads "/spec/containers/0".
std::string remove_anchors_from_path(const std::string& path) {
  static const RE2 kAnchor(R"(^([+<=X^])?\((.+)\)$)");
  std::vector<std::string> parts = split(path, '/');
  if (parts.front().empty()) parts.erase(parts.begin());
  for (auto& part : parts) {
    std::string modifier, key;
    if (RE2::FullMatch(part, kAnchor, &modifier, &key)) part = key;
  }
  std::string joined = join_path(parts);
  return !path.empty() && path.front() == '/' ? "/" + joined : joined;
}

// The child path of `key` under `path`, as Kyverno's JSON traversal writes it.
std::string child_path(const std::string& path, std::string_view key) {
  std::string escaped;
  for (char c : key) {
    if (c == '/') escaped += '\\';
    escaped += c;
  }
  return path + "/" + escaped;
}

// Kyverno's getValueFromReference: the last leaf, or map key, met at `path` in a traversal of
// the document. A map's keys stand at the map's own path, so a reference to a map reads one of
// its keys; one to a list or to nothing reads nothing.
void find_at(const bj::value& node, const std::string& node_path, const std::string& wanted,
             std::optional<bj::value>& found, unsigned depth) {
  if (depth > kMaxDepth) return;
  if (node.is_object()) {
    bool here = remove_anchors_from_path(node_path) == wanted;
    for (const auto& kvp : node.get_object()) {
      if (here) found = bj::value(kvp.key());
      find_at(kvp.value(), child_path(node_path, kvp.key()), wanted, found, depth + 1);
    }
  } else if (node.is_array()) {
    size_t i = 0;
    for (const auto& e : node.get_array()) find_at(e, node_path + "/" + std::to_string(i++), wanted, found, depth + 1);
  } else if (remove_anchors_from_path(node_path) == wanted) {
    found = node;
  }
}

// Kyverno's GetOperatorFromStringPattern.
std::string operator_prefix(const std::string& s) {
  static const RE2 kInRange(R"(^([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)-([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)$)");
  static const RE2 kNotInRange(R"(^([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)!-([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)$)");
  if (s.size() < 2) return "";
  for (const char* op : {">=", "<=", ">", "<", "!"})
    if (s.starts_with(op)) return op;
  if (RE2::FullMatch(s, kNotInRange)) return "!-";
  if (RE2::FullMatch(s, kInRange)) return "-";
  return "";
}

// Kyverno's resolveReference: the value `reference` ("$(...)") names, seen from `at`. Nothing
// (nullopt) when the path names no value.
Result<std::optional<bj::value>> resolve_reference(const bj::value& document, const std::string& base,
                                                   const std::string& reference, const std::string& at) {
  size_t first = reference.find_first_not_of("$()");
  size_t last = reference.find_last_not_of("$()");
  std::string path = first == std::string::npos ? "" : reference.substr(first, last - first + 1);
  std::string op = operator_prefix(path);
  path = path.substr(op.size());
  if (path.empty()) return invalid_input("expected path, found empty reference");
  if (path.front() != '/') path = join_path({at, path});
  std::optional<bj::value> found;
  find_at(document, base, path, found, 0);
  if (op.empty()) return found;
  if (found && found->is_string()) return std::optional<bj::value>(bj::value(op + std::string(found->get_string())));
  // Kyverno reads the rule as untyped JSON, where every number is a float64 printed with %f.
  if (found && found->is_number()) return std::optional<bj::value>(bj::value(fmt::format("{}{:f}", op, found->to_number<double>())));
  return invalid_input(fmt::format("incorrect expression: operator {} does not match with value {}", op,
                                   found ? go_sprint(*found) : "<nil>"));
}

// Kyverno's substituteReferencesIfAny for one string (a leaf or a map key) at `at`.
Result<std::string> references_in(const bj::value& document, const std::string& base, const std::string& text,
                                  const std::string& at) {
  static const RE2 kReference(R"(^\$\(.[^ ]*\)|[^\\]\$\(.[^ ]*\))");
  static const RE2 kEscaped(R"(\\\$\(.[^ )]*\))");
  std::string value = text;
  re2::StringPiece input(text);
  size_t pos = 0;
  re2::StringPiece match;
  while (pos <= text.size() && kReference.Match(input, pos, text.size(), RE2::UNANCHORED, &match, 1)) {
    std::string old(match);
    pos = static_cast<size_t>(match.data() - text.data()) + std::max<size_t>(match.size(), 1);
    bool initial = old.starts_with("$(");
    std::string reference = initial ? old : old.substr(1);
    auto resolved = resolve_reference(document, base, reference, at);
    if (!resolved.ok())
      return invalid_input(fmt::format("failed to resolve {} at path {}: {}", reference, at, resolved.error().message));
    if (!*resolved || (*resolved)->is_null())
      return invalid_input(fmt::format("got nil resolved variable {} at path {}: <nil>", reference, at));
    if (!(*resolved)->is_string())
      return invalid_input(fmt::format("NotResolvedReferenceErr,reference {} not resolved at path {}", reference, at));
    std::string replacement = initial ? "" : old.substr(0, 1);
    replacement += std::string((*resolved)->get_string());
    size_t where = value.find(old);
    if (where != std::string::npos) value.replace(where, old.size(), replacement);
    if (value.size() > kMaxSubstitutedBytes)
      return invalid_input(fmt::format("reference substitution at path {} makes a string larger than {} bytes", at,
                                       kMaxSubstitutedBytes));
  }
  // Every escaped reference loses its backslash.
  std::vector<std::string> escaped;
  re2::StringPiece rest(value);
  pos = 0;
  while (pos <= value.size() && kEscaped.Match(rest, pos, value.size(), RE2::UNANCHORED, &match, 1)) {
    escaped.emplace_back(match);
    pos = static_cast<size_t>(match.data() - value.data()) + std::max<size_t>(match.size(), 1);
  }
  for (const auto& e : escaped) {
    size_t p = 0;
    while ((p = value.find(e, p)) != std::string::npos) {
      value.erase(p, 1);
      p += e.size() - 1;
    }
  }
  return value;
}

Result<bj::value> references_walk(const bj::value& document, const std::string& base, const bj::value& node,
                                  const std::string& at, unsigned depth) {
  if (depth > kMaxDepth) return invalid_input("document nested too deeply");
  if (node.is_string()) {
    std::string_view s = node.get_string();
    if (s.find("$(") == std::string_view::npos) return node;
    VOUCH_ASSIGN_OR_RETURN(std::string v, references_in(document, base, std::string(s), at));
    return bj::value(v);
  }
  if (node.is_array()) {
    bj::array out;
    size_t i = 0;
    for (const auto& e : node.get_array()) {
      VOUCH_ASSIGN_OR_RETURN(bj::value v, references_walk(document, base, e, at + "/" + std::to_string(i++), depth + 1));
      out.push_back(std::move(v));
    }
    return bj::value(std::move(out));
  }
  if (node.is_object()) {
    bj::object out;
    for (const auto& kvp : node.get_object()) {
      std::string key(kvp.key());
      if (key.find("$(") != std::string::npos) {
        VOUCH_ASSIGN_OR_RETURN(key, references_in(document, base, key, at));
      }
      VOUCH_ASSIGN_OR_RETURN(bj::value v,
                             references_walk(document, base, kvp.value(), child_path(at, kvp.key()), depth + 1));
      out[key] = std::move(v);
    }
    return bj::value(std::move(out));
  }
  return node;
}

bool mentions_reference_at(const bj::value& node, unsigned depth) {
  if (depth > kMaxDepth) return true;  // the walk reports the depth
  if (node.is_string()) return node.get_string().find("$(") != std::string_view::npos;
  if (node.is_array()) {
    for (const auto& e : node.get_array())
      if (mentions_reference_at(e, depth + 1)) return true;
  }
  if (node.is_object()) {
    for (const auto& kvp : node.get_object())
      if (std::string_view(kvp.key()).find("$(") != std::string_view::npos || mentions_reference_at(kvp.value(), depth + 1))
        return true;
  }
  return false;
}

}  // namespace

std::string reference_base(const std::string& path) {
  std::string base = path;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

bool mentions_reference(const bj::value& document) { return mentions_reference_at(document, 0); }

Result<bj::value> substitute_references(const bj::value& document, const std::string& base) {
  if (!mentions_reference(document)) return document;
  return references_walk(document, base, document, base, 0);
}

}  // namespace engine_internal

}  // namespace vouch::policy
