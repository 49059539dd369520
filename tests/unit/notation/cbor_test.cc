#include "vouch/notation/cbor.h"

#include <gtest/gtest.h>

namespace vouch::notation {
namespace {

Bytes hex(std::string_view h) { return hex_decode(h).value(); }

TEST(NotationCbor, DecodesTheItemsCoseUses) {
  // 18([h'a10126', {33: [h'01']}, h'', h'ff'])  with a tagged epoch time inside a map
  auto v = cbor_decode(hex("d28443a10126a1182181410140" "41ff")).value();
  ASSERT_EQ(v.type, CborValue::Type::kTag);
  EXPECT_EQ(v.tag, 18u);
  const auto& arr = v.items[0];
  ASSERT_EQ(arr.items.size(), 4u);
  EXPECT_EQ(arr.items[0].string, std::string("\xa1\x01\x26", 3));
  ASSERT_NE(arr.items[1].find(33), nullptr);
  EXPECT_EQ(arr.items[1].find(33)->items[0].string, "\x01");
  auto t = cbor_decode(hex("a163657870c11a5f5e1000")).value();  // {"exp": 1(1600000000)}
  ASSERT_NE(t.find("exp"), nullptr);
  EXPECT_EQ(t.find("exp")->tag, 1u);
  EXPECT_EQ(t.find("exp")->items[0].integer, 1600000000);
  EXPECT_EQ(cbor_decode(hex("3903ff")).value().integer, -1024);
}

TEST(NotationCbor, RefusesWhatEnvelopesNeverHold) {
  EXPECT_FALSE(cbor_decode(hex("9f01ff")).ok());            // indefinite array
  EXPECT_FALSE(cbor_decode(hex("f97e00")).ok());            // half float
  EXPECT_FALSE(cbor_decode(hex("0102")).ok());              // trailing data
  EXPECT_FALSE(cbor_decode(hex("a2010201")).ok());       // truncated map
  EXPECT_FALSE(cbor_decode(hex("a201020103")).ok());        // duplicate key
  EXPECT_FALSE(cbor_decode(hex("5affffffff00")).ok());    // length beyond the data
  EXPECT_FALSE(cbor_decode(hex("9b00000000ffffffff")).ok());  // count beyond the data
  EXPECT_FALSE(cbor_decode(hex("1bffffffffffffffff")).ok());  // beyond int64
  EXPECT_FALSE(cbor_decode(hex("a1f601")).ok());           // null map key
  Bytes deep(40, 0x81);
  deep.push_back(0x01);
  EXPECT_FALSE(cbor_decode(deep).ok());
  EXPECT_TRUE(cbor_decode(deep, {1024, 64, 4096}).ok());
  EXPECT_FALSE(cbor_decode({}).ok());
}

TEST(NotationCbor, EncodesShortestForms) {
  Bytes out;
  cbor_append_int(out, 23);
  cbor_append_int(out, 24);
  cbor_append_int(out, -38);
  cbor_append_int(out, 1667411812);
  cbor_append_text(out, "a");
  EXPECT_EQ(hex_encode(out), "17181838251a6362af646161");
  auto back = cbor_decode(Bytes(out.begin() + 5, out.begin() + 10)).value();
  EXPECT_EQ(back.integer, 1667411812);
}

}  // namespace
}  // namespace vouch::notation
