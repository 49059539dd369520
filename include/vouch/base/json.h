// JSON for untrusted input: parsing with size and depth limits, and typed field access
// whose errors name the JSON path that was wrong ("verificationMaterial.tlogEntries[0].logIndex").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"

namespace vouch::json {

namespace bj = boost::json;

struct ParseLimits {
  size_t max_bytes = 64 * 1024 * 1024;
  unsigned max_depth = 64;
};

Result<bj::value> parse(std::string_view text, ParseLimits limits = {});

// A view of one JSON value together with its path, for error messages.
class Node {
 public:
  Node(const bj::value* value, std::string path) : value_(value), path_(std::move(path)) {}
  static Node root(const bj::value& v) { return Node(&v, ""); }

  const std::string& path() const { return path_; }
  const bj::value& raw() const { return *value_; }
  bool is_object() const { return value_->is_object(); }
  bool is_array() const { return value_->is_array(); }
  bool is_string() const { return value_->is_string(); }

  // Member access. `get` fails when absent; `find` returns nullopt when absent or null.
  Result<Node> get(std::string_view key) const;
  std::optional<Node> find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key).has_value(); }

  Result<std::vector<Node>> array() const;
  Result<std::string> string() const;
  Result<bool> boolean() const;
  // Integers as protojson writes int64/uint64: a JSON number or a decimal string.
  Result<int64_t> int64() const;
  // protojson `bytes`: base64 string.
  Result<Bytes> bytes() const;

  // Shorthands for required members.
  Result<std::string> get_string(std::string_view key) const;
  Result<int64_t> get_int64(std::string_view key) const;
  Result<Bytes> get_bytes(std::string_view key) const;

  Error error(std::string_view what) const;

 private:
  std::string child_path(std::string_view key) const;
  const bj::value* value_;
  std::string path_;
};

// Serializes a value with object members in the given order (Boost.JSON keeps insertion order).
std::string serialize(const bj::value& v);
// Indented output for humans (-o json).
std::string pretty(const bj::value& v);

}  // namespace vouch::json
