// The part of CBOR (RFC 8949) that COSE_Sign1 envelopes use, decoded from untrusted bytes with
// bounds (nesting depth, item count, lengths that must fit the input) and encoded for signing.
// Indefinite lengths, floats and simple values other than false/true/null are refused: a
// Notary Project envelope never needs them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"

namespace vouch::notation {

struct CborEntry;

struct CborValue {
  enum class Type { kInteger, kBytes, kText, kArray, kMap, kTag, kBool, kNull };
  Type type = Type::kNull;
  int64_t integer = 0;   // kInteger (major types 0 and 1 within int64), kBool (0 or 1)
  std::string string;    // kBytes, kText
  std::vector<CborValue> items;                          // kArray; kTag: the one tagged item
  std::vector<CborEntry> entries;  // kMap, in encoded order
  uint64_t tag = 0;                                      // kTag

  bool is_integer() const { return type == Type::kInteger; }
  bool is_text() const { return type == Type::kText; }
  bool is_bytes() const { return type == Type::kBytes; }
  // The value of a map entry whose key is the integer `label` or the text `label`; null when absent.
  const CborValue* find(int64_t label) const;
  const CborValue* find(std::string_view label) const;
};

struct CborEntry {
  CborValue key;
  CborValue value;
};

struct CborLimits {
  size_t max_bytes = 4 * 1024 * 1024;
  unsigned max_depth = 16;
  size_t max_items = 4096;  // array elements and map entries, over the whole item
};

// Decodes exactly one item filling `data`. Duplicate map keys are refused. kInvalidInput with
// the byte offset when anything is wrong.
Result<CborValue> cbor_decode(ByteView data, CborLimits limits = {});

// Encoding, in the preferred (shortest) form of RFC 8949 §4.1.
void cbor_append_head(Bytes& out, unsigned major, uint64_t argument);
void cbor_append_int(Bytes& out, int64_t value);
void cbor_append_bytes(Bytes& out, ByteView value);
void cbor_append_text(Bytes& out, std::string_view value);

}  // namespace vouch::notation
