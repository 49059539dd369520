#include "vouch/tlog/entry_timestamp.h"

#include <gtest/gtest.h>

namespace vouch::tlog {
namespace {

TEST(EntryTimestamp, PayloadIsCanonicalJsonOfTheFourFields) {
  auto p = entry_timestamp_payload(as_bytes(std::string_view("hi")), 5, Bytes{0x01, 0xab}, 7);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, R"({"body":"aGk=","integratedTime":5,"logID":"01ab","logIndex":7})");
}

TEST(EntryTimestamp, SignatureVerifiesOverThePayload) {
  auto key = crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
  ASSERT_TRUE(key.ok());
  Bytes body = to_bytes("{}");
  auto set = sign_entry_timestamp(*key, body, 1700000000, Bytes(32, 1), 42);
  ASSERT_TRUE(set.ok());
  auto payload = entry_timestamp_payload(body, 1700000000, Bytes(32, 1), 42);
  EXPECT_TRUE(key->public_key().verify(as_bytes(*payload), *set).ok());
  auto other = entry_timestamp_payload(body, 1700000000, Bytes(32, 1), 43);
  EXPECT_FALSE(key->public_key().verify(as_bytes(*other), *set).ok());
}

}  // namespace
}  // namespace vouch::tlog
