// A JSON value of a policy document with its path: the typed reads every policy parser makes,
// each failing with an error that names the field (`spec.rules[0].match: expected an object`).
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/policy/policy.h"

namespace vouch::policy {

struct JsonField {
  const boost::json::value* v;
  std::string path;

  Error err(std::string_view what) const;
  // The member `key`, or a null field (with its path) when absent or when this is no object.
  JsonField at(std::string_view key) const;
  bool present() const { return !v->is_null(); }

  // Absent, or an object.
  Status object() const;
  // Absent, or an object whose members are all in `known`.
  Status object(std::initializer_list<std::string_view> known) const;
  // Rejects members not in `known` (nothing to check when this is no object).
  Status only(std::initializer_list<std::string_view> known) const;
  Result<std::vector<JsonField>> list() const;
  // Absent reads as "" unless required; required also refuses "".
  Result<std::string> str(bool required = false) const;
  Result<std::vector<std::string>> strings() const;
  Result<std::optional<bool>> boolean() const;
  Result<bool> boolean(bool fallback) const;
  Result<std::map<std::string, std::string>> string_map() const;
};

// A Kubernetes label selector (matchLabels, matchExpressions), absent → nullopt.
Result<std::optional<LabelSelector>> parse_label_selector(const JsonField& f);

}  // namespace vouch::policy
