#include "vouch/base/json.h"

#include <charconv>

namespace vouch::json {

Result<bj::value> parse(std::string_view text, ParseLimits limits) {
  if (text.size() > limits.max_bytes) {
    return invalid_input(fmt::format("JSON document of {} bytes exceeds the limit of {} bytes",
                                     text.size(), limits.max_bytes));
  }
  bj::parse_options opts;
  opts.max_depth = limits.max_depth;
  boost::system::error_code ec;
  bj::value v = bj::parse(text, ec, {}, opts);
  if (ec) {
    return invalid_input(fmt::format("malformed JSON: {}", ec.message()));
  }
  return v;
}

std::string Node::child_path(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return fmt::format("{}.{}", path_, key);
}

Error Node::error(std::string_view what) const {
  return invalid_input(fmt::format("{}: {}", path_.empty() ? "document" : path_, what));
}

std::optional<Node> Node::find(std::string_view key) const {
  if (!value_->is_object()) return std::nullopt;
  const auto& obj = value_->get_object();
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) return std::nullopt;
  return Node(&it->value(), child_path(key));
}

Result<Node> Node::get(std::string_view key) const {
  if (!value_->is_object()) return error("expected an object");
  auto found = find(key);
  if (!found) return invalid_input(fmt::format("{}: missing", child_path(key)));
  return *found;
}

Result<std::vector<Node>> Node::array() const {
  if (!value_->is_array()) return error("expected an array");
  std::vector<Node> out;
  const auto& arr = value_->get_array();
  out.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) out.emplace_back(&arr[i], fmt::format("{}[{}]", path_, i));
  return out;
}

Result<std::string> Node::string() const {
  if (!value_->is_string()) return error("expected a string");
  return std::string(value_->get_string());
}

Result<bool> Node::boolean() const {
  if (!value_->is_bool()) return error("expected a boolean");
  return value_->get_bool();
}

Result<int64_t> Node::int64() const {
  if (value_->is_int64()) return value_->get_int64();
  if (value_->is_uint64()) {
    if (value_->get_uint64() > static_cast<uint64_t>(INT64_MAX)) return error("integer out of range");
    return static_cast<int64_t>(value_->get_uint64());
  }
  if (value_->is_string()) {
    std::string_view s = value_->get_string();
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return error("expected an integer");
    return v;
  }
  return error("expected an integer");
}

Result<Bytes> Node::bytes() const {
  VOUCH_ASSIGN_OR_RETURN(std::string s, string());
  auto decoded = protojson_bytes_decode(s);
  if (!decoded.ok()) return error(decoded.error().message);
  return std::move(decoded).value();
}

Result<std::string> Node::get_string(std::string_view key) const {
  VOUCH_ASSIGN_OR_RETURN(Node n, get(key));
  return n.string();
}
Result<int64_t> Node::get_int64(std::string_view key) const {
  VOUCH_ASSIGN_OR_RETURN(Node n, get(key));
  return n.int64();
}
Result<Bytes> Node::get_bytes(std::string_view key) const {
  VOUCH_ASSIGN_OR_RETURN(Node n, get(key));
  return n.bytes();
}

std::string serialize(const bj::value& v) { return bj::serialize(v); }

namespace {
void pretty_into(std::string& out, const bj::value& v, int indent) {
  auto pad = [&](int n) { out.append(static_cast<size_t>(n) * 2, ' '); };
  switch (v.kind()) {
    case bj::kind::object: {
      const auto& o = v.get_object();
      if (o.empty()) { out += "{}"; return; }
      out += "{\n";
      bool first = true;
      for (const auto& kv : o) {
        if (!first) out += ",\n";
        first = false;
        pad(indent + 1);
        out += bj::serialize(bj::value(kv.key()));
        out += ": ";
        pretty_into(out, kv.value(), indent + 1);
      }
      out += "\n";
      pad(indent);
      out += "}";
      return;
    }
    case bj::kind::array: {
      const auto& a = v.get_array();
      if (a.empty()) { out += "[]"; return; }
      out += "[\n";
      for (size_t i = 0; i < a.size(); ++i) {
        if (i) out += ",\n";
        pad(indent + 1);
        pretty_into(out, a[i], indent + 1);
      }
      out += "\n";
      pad(indent);
      out += "]";
      return;
    }
    default:
      out += bj::serialize(v);
  }
}
}  // namespace

std::string pretty(const bj::value& v) {
  std::string out;
  pretty_into(out, v, 0);
  out += "\n";
  return out;
}

}  // namespace vouch::json
