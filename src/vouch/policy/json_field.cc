#include "json_field.h"

#include <algorithm>

#include <fmt/format.h>

namespace vouch::policy {

namespace bj = boost::json;

Error JsonField::err(std::string_view what) const { return invalid_input(fmt::format("{}: {}", path, what)); }

JsonField JsonField::at(std::string_view key) const {
  static const bj::value kNull;
  const bj::value* child = &kNull;
  if (v->is_object())
    if (auto* p = v->get_object().if_contains(key)) child = p;
  return JsonField{child, path.empty() ? std::string(key) : fmt::format("{}.{}", path, key)};
}

Status JsonField::object() const {
  if (!v->is_null() && !v->is_object()) return err("expected an object");
  return ok_status();
}

Status JsonField::object(std::initializer_list<std::string_view> known) const {
  VOUCH_RETURN_IF_ERROR(object());
  return only(known);
}

Status JsonField::only(std::initializer_list<std::string_view> known) const {
  if (!v->is_object()) return ok_status();
  for (const auto& kv : v->get_object())
    if (std::find(known.begin(), known.end(), std::string_view(kv.key())) == known.end())
      return at(kv.key()).err("unknown field");
  return ok_status();
}

Result<std::vector<JsonField>> JsonField::list() const {
  std::vector<JsonField> out;
  if (v->is_null()) return out;
  if (!v->is_array()) return err("expected a list");
  size_t i = 0;
  for (const auto& e : v->get_array()) out.push_back(JsonField{&e, fmt::format("{}[{}]", path, i++)});
  return out;
}

Result<std::string> JsonField::str(bool required) const {
  if (v->is_null()) {
    if (required) return err("required");
    return std::string();
  }
  if (!v->is_string()) return err("expected a string");
  if (required && v->get_string().empty()) return err("required");
  return std::string(v->get_string());
}

Result<std::vector<std::string>> JsonField::strings() const {
  VOUCH_ASSIGN_OR_RETURN(auto items, list());
  std::vector<std::string> out;
  for (const auto& i : items) {
    if (!i.v->is_string()) return i.err("expected a string");
    out.emplace_back(i.v->get_string());
  }
  return out;
}

Result<std::optional<bool>> JsonField::boolean() const {
  if (v->is_null()) return std::optional<bool>();
  if (!v->is_bool()) return err("expected true or false");
  return std::optional<bool>(v->get_bool());
}

Result<bool> JsonField::boolean(bool fallback) const {
  VOUCH_ASSIGN_OR_RETURN(auto b, boolean());
  return b.value_or(fallback);
}

Result<std::map<std::string, std::string>> JsonField::string_map() const {
  std::map<std::string, std::string> out;
  VOUCH_RETURN_IF_ERROR(object());
  if (v->is_null()) return out;
  for (const auto& kv : v->get_object()) {
    if (!kv.value().is_string()) return at(kv.key()).err("expected a string");
    out[std::string(kv.key())] = std::string(kv.value().get_string());
  }
  return out;
}

Result<std::optional<LabelSelector>> parse_label_selector(const JsonField& f) {
  if (!f.present()) return std::optional<LabelSelector>();
  VOUCH_RETURN_IF_ERROR(f.object({"matchLabels", "matchExpressions"}));
  LabelSelector s;
  VOUCH_ASSIGN_OR_RETURN(s.match_labels, f.at("matchLabels").string_map());
  VOUCH_ASSIGN_OR_RETURN(auto exprs, f.at("matchExpressions").list());
  for (const auto& e : exprs) {
    VOUCH_RETURN_IF_ERROR(e.object({"key", "operator", "values"}));
    LabelSelectorRequirement r;
    VOUCH_ASSIGN_OR_RETURN(r.key, e.at("key").str(true));
    VOUCH_ASSIGN_OR_RETURN(r.op, e.at("operator").str());
    VOUCH_ASSIGN_OR_RETURN(r.values, e.at("values").strings());
    if (r.op != "In" && r.op != "NotIn" && r.op != "Exists" && r.op != "DoesNotExist")
      return e.at("operator").err(fmt::format("expected In, NotIn, Exists or DoesNotExist, got '{}'", r.op));
    if ((r.op == "In" || r.op == "NotIn") && r.values.empty()) return e.at("values").err("must not be empty for " + r.op);
    if ((r.op == "Exists" || r.op == "DoesNotExist") && !r.values.empty())
      return e.at("values").err("must be empty for " + r.op);
    s.match_expressions.push_back(std::move(r));
  }
  return std::optional<LabelSelector>(std::move(s));
}

}  // namespace vouch::policy
