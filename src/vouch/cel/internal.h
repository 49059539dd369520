// What the environment holds and the helpers the function libraries share.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "vouch/cel/cel.h"
#include "vouch/cel/value.h"

namespace vouch::cel {

struct OverloadSet {
  std::vector<Overload> overloads;
};

struct Environment::State {
  EnvironmentOptions options;
  std::unordered_map<std::string, OverloadSet> functions;
  std::map<std::string, MessageType, std::less<>> messages;
  std::map<std::string, int64_t, std::less<>> enums;
  // Type names of extension values (net.IP, net.CIDR, …), readable as type values.
  std::set<std::string, std::less<>> opaque_types;

  // Adds an overload that accepts any argument kinds and checks them itself.
  void def(std::string name, bool receiver, size_t arity, Function fn,
           std::function<uint64_t(std::span<const Value>)> cost = nullptr) {
    Overload o;
    o.name = name;
    o.receiver = receiver;
    o.args.assign(arity, std::nullopt);
    o.fn = std::move(fn);
    o.cost = std::move(cost);
    functions[std::move(name)].overloads.push_back(std::move(o));
  }
  // Adds an overload for arguments of the given kinds (nullopt: any kind).
  void def_typed(std::string name, bool receiver, std::vector<std::optional<Kind>> kinds, Function fn,
                 std::function<uint64_t(std::span<const Value>)> cost = nullptr) {
    Overload o;
    o.name = name;
    o.receiver = receiver;
    o.args = std::move(kinds);
    o.fn = std::move(fn);
    o.cost = std::move(cost);
    functions[std::move(name)].overloads.push_back(std::move(o));
  }
  // Adds the same implementation as global function and as receiver-style method.
  void def_both(const std::string& name, size_t arity, const Function& fn,
                const std::function<uint64_t(std::span<const Value>)>& cost = nullptr) {
    def(name, false, arity, fn, cost);
    def(name, true, arity, fn, cost);
  }
};

void register_standard(Environment::State& env);
void register_strings_ext(Environment::State& env);
void register_lists_ext(Environment::State& env);
void register_regex_ext(Environment::State& env);
void register_url_ext(Environment::State& env);
void register_quantity_ext(Environment::State& env);
void register_ip_ext(Environment::State& env);
void register_math_ext(Environment::State& env);
void register_encoders_ext(Environment::State& env);
void register_sets_ext(Environment::State& env);

inline Value range_error(std::string_view what) { return Value::error(fmt::format("range error: {}", what)); }

// Cost of work proportional to the sizes of the arguments: strings and bytes by length / 10,
// lists and maps by element count.
inline uint64_t size_cost(std::span<const Value> args) {
  uint64_t c = 0;
  for (const auto& a : args) {
    switch (a.kind()) {
      case Kind::kString: c += a.as_string().size() / 10; break;
      case Kind::kBytes: c += a.as_bytes().size() / 10; break;
      case Kind::kList: c += a.as_list().size(); break;
      case Kind::kMap: c += a.as_map().size(); break;
      default: break;
    }
  }
  return c;
}

}  // namespace vouch::cel
