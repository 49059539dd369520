// CEL values: the runtime form of every CEL type (int, uint, double, bool, string, bytes, null,
// list, map, type, timestamp, duration, optional, messages) and of evaluation errors, which CEL
// treats as values so that `&&`, `||` and `?:` can absorb them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace vouch::cel {

enum class Kind {
  kNull,
  kBool,
  kInt,
  kUint,
  kDouble,
  kString,
  kBytes,
  kList,
  kMap,
  kType,
  kTimestamp,
  kDuration,
  kOptional,
  kMessage,
  kError,
};

// Seconds and nanoseconds since the Unix epoch (timestamp) or signed span (duration); nanos has
// the sign of seconds, as protobuf's Duration has.
struct Timestamp {
  int64_t seconds = 0;
  int32_t nanos = 0;
};
struct Duration {
  int64_t seconds = 0;
  int32_t nanos = 0;
};

class Value;
using List = std::vector<Value>;
class Map;
struct Message;

class Value {
 public:
  Value() : data_(std::monostate{}) {}  // null

  static Value null() { return Value(); }
  static Value boolean(bool b) { return Value(Data(b)); }
  static Value integer(int64_t i) { return Value(Data(i)); }
  static Value uint(uint64_t u) { return Value(Data(UintBox{u})); }
  static Value dbl(double d) { return Value(Data(d)); }
  static Value string(std::string s);
  static Value bytes(std::string b);
  static Value list(List items);
  static Value map(Map m);
  static Value type(std::string name);
  static Value timestamp(Timestamp t) { return Value(Data(t)); }
  static Value duration(Duration d) { return Value(Data(d)); }
  static Value optional_none();
  static Value optional_of(Value v);
  static Value message(Message m);
  static Value error(std::string message);
  // The error CEL raises for an operator or function applied to arguments of the wrong types.
  static Value no_overload(std::string_view function);

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  bool is(Kind k) const { return kind() == k; }
  bool is_error() const { return kind() == Kind::kError; }

  bool as_bool() const { return std::get<bool>(data_); }
  int64_t as_int() const { return std::get<int64_t>(data_); }
  uint64_t as_uint() const { return std::get<UintBox>(data_).v; }
  double as_double() const { return std::get<double>(data_); }
  const std::string& as_string() const { return *std::get<StrBox>(data_).s; }
  const std::string& as_bytes() const { return *std::get<BytesBox>(data_).s; }
  const List& as_list() const { return *std::get<ListPtr>(data_); }
  const Map& as_map() const { return *std::get<MapPtr>(data_); }
  const std::string& as_type() const { return *std::get<TypeBox>(data_).s; }
  Timestamp as_timestamp() const { return std::get<Timestamp>(data_); }
  Duration as_duration() const { return std::get<Duration>(data_); }
  // The optional's value, or nullptr for optional.none().
  const Value* optional_value() const { return std::get<OptionalBox>(data_).v.get(); }
  const Message& as_message() const { return *std::get<MessagePtr>(data_); }
  const std::string& error_message() const { return *std::get<ErrorBox>(data_).s; }

  // The CEL type name of this value: "int", "list", "google.protobuf.Timestamp", a message name…
  std::string type_name() const;
  // A readable rendering for messages and tests (CEL literal syntax where one exists).
  std::string debug_string() const;

 private:
  struct UintBox { uint64_t v; };
  struct StrBox { std::shared_ptr<const std::string> s; };
  struct BytesBox { std::shared_ptr<const std::string> s; };
  struct TypeBox { std::shared_ptr<const std::string> s; };
  struct ErrorBox { std::shared_ptr<const std::string> s; };
  struct OptionalBox { std::shared_ptr<const Value> v; };
  using ListPtr = std::shared_ptr<const List>;
  using MapPtr = std::shared_ptr<const Map>;
  using MessagePtr = std::shared_ptr<const Message>;
  // The order of the alternatives follows Kind.
  using Data = std::variant<std::monostate, bool, int64_t, UintBox, double, StrBox, BytesBox, ListPtr, MapPtr,
                            TypeBox, Timestamp, Duration, OptionalBox, MessagePtr, ErrorBox>;
  explicit Value(Data d) : data_(std::move(d)) {}
  Data data_;
};

// A map's key as CEL compares keys: ints and uints of equal value are one key, and a double
// with an integral value finds them too (heterogeneous equality).
struct MapKey {
  // 0 bool, 1 number (as signed, or unsigned beyond int64), 2 string.
  int kind = 0;
  bool negative_or_small = true;  // number fits int64
  int64_t i = 0;
  uint64_t u = 0;
  std::string s;
  bool operator<(const MapKey& o) const;
};
// The key for `v`, or nullopt when `v` cannot be a map key (or is a double without an integral
// value, which can never equal a key).
std::optional<MapKey> map_key(const Value& v);

// An insertion-ordered map with CEL's key semantics.
class Map {
 public:
  // False when the key is already present or is not a valid key type.
  bool insert(Value key, Value value);
  const Value* find(const Value& key) const;
  size_t size() const { return entries_.size(); }
  const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<Value, Value>> entries_;
  std::map<MapKey, size_t> index_;
};

// A protobuf message as CEL sees it: its full type name and the fields that are set. Fields
// that are not set read as their defaults, which the message's MessageType describes.
struct Message {
  std::string type_name;
  std::vector<std::pair<std::string, Value>> fields;
  const Value* find(std::string_view field) const;
};

// Equality as CEL defines it: numbers compare across int, uint and double; values of other
// different types are unequal; NaN equals nothing. Errors are never equal (callers check first).
bool equals(const Value& a, const Value& b);

}  // namespace vouch::cel
