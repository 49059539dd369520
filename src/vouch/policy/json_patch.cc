// JSON Patch (RFC 6902) over JSON Pointers (RFC 6901).
#include "vouch/policy/json_patch.h"

#include <charconv>
#include <string>

#include <fmt/format.h>

namespace vouch::policy {

namespace bj = boost::json;

namespace {

// The reference tokens of a JSON Pointer, unescaped (~1 is '/', ~0 is '~').
Result<std::vector<std::string>> pointer_tokens(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  if (pointer[0] != '/') return invalid_input(fmt::format("path {}: a JSON pointer starts with '/'", pointer));
  size_t start = 1;
  while (true) {
    size_t slash = pointer.find('/', start);
    std::string_view raw = pointer.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '~') {
        token.push_back(raw[i]);
        continue;
      }
      if (i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        token.push_back(raw[++i] == '0' ? '~' : '/');
      } else {
        return invalid_input(fmt::format("path {}: '~' must be followed by 0 or 1", pointer));
      }
    }
    tokens.push_back(std::move(token));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return tokens;
}

// An array index token: digits without a leading zero, below `limit` (or equal when
// `allow_end`); "-" is the end when `allow_end`.
Result<size_t> array_index(const std::string& token, size_t size, bool allow_end, std::string_view pointer,
                           const JsonPatchOptions& options = {}) {
  if (allow_end && token == "-") return size;
  if (options.negative_indices && token.size() > 1 && token[0] == '-') {
    size_t back = 0;
    auto [p, ec] = std::from_chars(token.data() + 1, token.data() + token.size(), back);
    if (ec != std::errc() || p != token.data() + token.size() || back == 0 || back > size)
      return invalid_input(fmt::format("path {}: index {} is out of range", pointer, token));
    return size - back;
  }
  size_t index = 0;
  auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), index);
  if (token.empty() || ec != std::errc() || p != token.data() + token.size() || (token.size() > 1 && token[0] == '0'))
    return invalid_input(fmt::format("path {}: \"{}\" is not an array index", pointer, token));
  if (index > size || (index == size && !allow_end))
    return not_found(fmt::format("path {}: index {} is out of range", pointer, index));
  return index;
}

// The value the tokens name.
Result<bj::value*> resolve(bj::value& root, const std::vector<std::string>& tokens, std::string_view pointer,
                           const JsonPatchOptions& options = {}) {
  bj::value* cur = &root;
  for (size_t n = 0; n < tokens.size(); ++n) {
    const std::string& t = tokens[n];
    if (cur->is_object()) {
      bj::value* next = cur->get_object().if_contains(t);
      if (!next && options.create_path_on_add) {
        // The missing parent is a list when the token below it is an index.
        bool index_below = n + 1 < tokens.size() &&
                           (tokens[n + 1] == "-" || (!tokens[n + 1].empty() &&
                                                     tokens[n + 1].find_first_not_of("0123456789") == std::string::npos));
        next = &(cur->get_object()[t] = index_below ? bj::value(bj::array()) : bj::value(bj::object()));
      }
      cur = next;
      if (!cur) return not_found(fmt::format("path {}: no member \"{}\"", pointer, t));
    } else if (cur->is_array()) {
      auto& a = cur->get_array();
      if (options.create_path_on_add && (t == "-" || t == std::to_string(a.size()))) {
        a.push_back(n + 1 < tokens.size() ? bj::value(bj::object()) : bj::value());
        cur = &a.back();
        continue;
      }
      VOUCH_ASSIGN_OR_RETURN(size_t i, array_index(t, cur->get_array().size(), false, pointer, options));
      cur = &cur->get_array()[i];
    } else {
      return not_found(fmt::format("path {}: \"{}\" is below a scalar", pointer, t));
    }
  }
  return cur;
}

Status add(bj::value& root, std::string_view pointer, bj::value value, const JsonPatchOptions& options = {}) {
  VOUCH_ASSIGN_OR_RETURN(auto tokens, pointer_tokens(pointer));
  if (tokens.empty()) {
    root = std::move(value);
    return ok_status();
  }
  std::string last = tokens.back();
  tokens.pop_back();
  VOUCH_ASSIGN_OR_RETURN(bj::value* parent, resolve(root, tokens, pointer, options));
  if (parent->is_object()) {
    parent->get_object()[last] = std::move(value);
  } else if (parent->is_array()) {
    auto& a = parent->get_array();
    VOUCH_ASSIGN_OR_RETURN(size_t i, array_index(last, a.size(), true, pointer, options));
    a.insert(a.begin() + static_cast<std::ptrdiff_t>(i), std::move(value));
  } else {
    return not_found(fmt::format("path {}: the parent is not an object or array", pointer));
  }
  return ok_status();
}

Result<bj::value> remove(bj::value& root, std::string_view pointer, const JsonPatchOptions& options = {}) {
  VOUCH_ASSIGN_OR_RETURN(auto tokens, pointer_tokens(pointer));
  if (tokens.empty()) return invalid_input("path \"\": the whole document cannot be removed");
  std::string last = tokens.back();
  tokens.pop_back();
  JsonPatchOptions lookup = options;
  lookup.create_path_on_add = false;
  VOUCH_ASSIGN_OR_RETURN(bj::value* parent, resolve(root, tokens, pointer, lookup));
  if (parent->is_object()) {
    auto& o = parent->get_object();
    auto it = o.find(last);
    if (it == o.end()) return not_found(fmt::format("path {}: no member \"{}\"", pointer, last));
    bj::value removed = it->value();
    o.erase(it);
    return removed;
  }
  if (parent->is_array()) {
    auto& a = parent->get_array();
    VOUCH_ASSIGN_OR_RETURN(size_t i, array_index(last, a.size(), false, pointer, options));
    bj::value removed = a[i];
    a.erase(a.begin() + static_cast<std::ptrdiff_t>(i));
    return removed;
  }
  return not_found(fmt::format("path {}: the parent is not an object or array", pointer));
}

Status apply_one(bj::value& doc, const bj::object& op, const JsonPatchOptions& options = {}) {
  JsonPatchOptions lookup = options;  // only add creates paths
  lookup.create_path_on_add = false;
  auto field = [&](const char* name) -> const bj::value* { return op.if_contains(name); };
  auto* op_name = field("op");
  auto* path = field("path");
  if (!op_name || !op_name->is_string()) return invalid_input("operation without \"op\"");
  if (!path || !path->is_string()) return invalid_input(fmt::format("{}: operation without \"path\"", op_name->get_string()));
  std::string_view name = op_name->get_string();
  std::string_view pointer = path->get_string();
  auto from = [&]() -> Result<std::string_view> {
    auto* f = field("from");
    if (!f || !f->is_string()) return invalid_input(fmt::format("{} {}: operation without \"from\"", name, pointer));
    return std::string_view(f->get_string());
  };
  auto value = [&]() -> Result<bj::value> {
    auto* v = field("value");
    if (!v) return invalid_input(fmt::format("{} {}: operation without \"value\"", name, pointer));
    return *v;
  };
  if (name == "add") {
    VOUCH_ASSIGN_OR_RETURN(bj::value v, value());
    return add(doc, pointer, std::move(v), options);
  }
  if (name == "remove") {
    auto removed = remove(doc, pointer, lookup);
    if (!removed.ok()) {
      if (options.missing_path_on_remove && removed.error().code == ErrorCode::kNotFound) return ok_status();
      return std::move(removed).error();
    }
    return ok_status();
  }
  if (name == "replace") {
    VOUCH_ASSIGN_OR_RETURN(bj::value v, value());
    VOUCH_ASSIGN_OR_RETURN(auto tokens, pointer_tokens(pointer));
    VOUCH_ASSIGN_OR_RETURN(bj::value* target, resolve(doc, tokens, pointer, lookup));
    *target = std::move(v);
    return ok_status();
  }
  if (name == "move") {
    VOUCH_ASSIGN_OR_RETURN(std::string_view source, from());
    if (pointer.starts_with(source) && pointer.size() > source.size() && pointer[source.size()] == '/')
      return invalid_input(fmt::format("move {}: a value cannot move into itself", pointer));
    VOUCH_ASSIGN_OR_RETURN(bj::value moved, remove(doc, source));
    return add(doc, pointer, std::move(moved));
  }
  if (name == "copy") {
    VOUCH_ASSIGN_OR_RETURN(std::string_view source, from());
    VOUCH_ASSIGN_OR_RETURN(auto tokens, pointer_tokens(source));
    VOUCH_ASSIGN_OR_RETURN(bj::value* copied, resolve(doc, tokens, source));
    return add(doc, pointer, *copied);
  }
  if (name == "test") {
    VOUCH_ASSIGN_OR_RETURN(bj::value v, value());
    VOUCH_ASSIGN_OR_RETURN(auto tokens, pointer_tokens(pointer));
    VOUCH_ASSIGN_OR_RETURN(bj::value* target, resolve(doc, tokens, pointer));
    if (*target != v) return verification_failed(fmt::format("test {}: the value differs", pointer));
    return ok_status();
  }
  return invalid_input(fmt::format("unknown operation \"{}\"", name));
}

}  // namespace

Result<bj::value> apply_json_patch(bj::value document, const std::vector<bj::object>& operations) {
  for (size_t i = 0; i < operations.size(); ++i) {
    if (auto st = apply_one(document, operations[i]); !st.ok())
      return std::move(st).error().context(fmt::format("JSON patch operation {}", i));
  }
  return document;
}

Result<bj::value> apply_json_patch(bj::value document, const bj::array& operations, const JsonPatchOptions& options) {
  for (size_t i = 0; i < operations.size(); ++i) {
    if (!operations[i].is_object()) return invalid_input(fmt::format("JSON patch operation {}: expected an object", i));
    if (auto st = apply_one(document, operations[i].get_object(), options); !st.ok())
      return std::move(st).error().context(fmt::format("JSON patch operation {}", i));
  }
  return document;
}

Result<bj::value> apply_json_patch(bj::value document, const bj::array& operations) {
  std::vector<bj::object> ops;
  for (size_t i = 0; i < operations.size(); ++i) {
    if (!operations[i].is_object()) return invalid_input(fmt::format("JSON patch operation {}: expected an object", i));
    ops.push_back(operations[i].get_object());
  }
  return apply_json_patch(std::move(document), ops);
}

}  // namespace vouch::policy
