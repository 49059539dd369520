// The registry client against scripted servers: hostile token realms and redirect targets are
// refused before any request goes there, and credentials never leave the registry's origin.
#include "vouch/oci/registry.h"

#include <gtest/gtest.h>

#include "scripted_server.h"

namespace vouch::oci {
namespace {

using vouch::testing::ScriptedReply;
using vouch::testing::ScriptedRequest;
using vouch::testing::ScriptedServer;

constexpr std::string_view kBlob = "hello, blob";

ScriptedReply reply(int status, std::vector<std::pair<std::string, std::string>> headers, std::string body) {
  ScriptedReply r;
  r.status = status;
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

Descriptor blob_descriptor() {
  Descriptor d;
  d.digest = Digest::sha256_of(as_bytes(kBlob));
  d.size = static_cast<int64_t>(kBlob.size());
  d.media_type = "application/octet-stream";
  return d;
}

RegistryOptions with_credentials() {
  RegistryOptions o;
  o.username = "alice";
  o.password = "s3cret";
  o.max_retries = 0;
  return o;
}

bool saw(const ScriptedServer& s, std::string_view path_part) {
  for (const auto& r : s.requests())
    if (r.target.find(path_part) != std::string::npos) return true;
  return false;
}

TEST(RegistryClient, HostileTokenRealmsGetNoRequest) {
  // Reachable on loopback but not named as a loopback host: credentials must not go there.
  ScriptedServer evil([](const ScriptedRequest&) { return reply(200, {}, R"({"token":"t"})"); }, "127.0.0.2");
  std::string realm;
  ScriptedServer registry([&](const ScriptedRequest&) {
    return reply(401, {{"WWW-Authenticate", "Bearer realm=\"" + realm + "\",service=\"reg\""}}, "{}");
  });
  std::string evil_port = std::to_string(evil.port());
  std::string own_port = std::to_string(registry.port());
  for (const std::string& hostile : std::vector<std::string>{"http://localhost.evil.example/token", "http://localhost@evil.example/token",
        "http://localhost@127.0.0.2:" + evil_port + "/token", "http://127.0.0.2:" + evil_port + "/token",
        "http://127.1:" + own_port + "/token", "http://localhost:" + own_port + "@127.0.0.2:" + evil_port + "/token"}) {
    realm = hostile;
    RegistryClient client(registry.host_port(), with_credentials(), false);
    auto st = client.ping();
    ASSERT_FALSE(st.ok()) << hostile;
    EXPECT_NE(st.error().message.find("token realm"), std::string::npos) << hostile << ": " << st.error().message;
  }
  EXPECT_TRUE(evil.requests().empty());
  EXPECT_FALSE(saw(registry, "/token"));
}

TEST(RegistryClient, LoopbackTokenRealmIsUsed) {
  std::string realm;
  ScriptedServer registry([&](const ScriptedRequest& r) {
    if (r.target.starts_with("/token")) return reply(200, {}, R"({"token":"tok"})");
    if (r.headers.count("authorization") && r.headers.at("authorization") == "Bearer tok") return reply(200, {}, "{}");
    return reply(401, {{"WWW-Authenticate", "Bearer realm=\"" + realm + "\",service=\"reg\""}}, "{}");
  });
  realm = "http://localhost:" + std::to_string(registry.port()) + "/token";
  RegistryClient client(registry.host_port(), with_credentials(), false);
  auto st = client.ping();
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(saw(registry, "/token?service=reg"));
}

TEST(RegistryClient, HostileRedirectsAreNotFollowed) {
  ScriptedServer evil([](const ScriptedRequest&) { return reply(200, {}, std::string(kBlob)); }, "127.0.0.2");
  std::string location;
  ScriptedServer registry([&](const ScriptedRequest& r) {
    if (r.target.find("/blobs/uploads/") != std::string::npos) return reply(202, {{"Location", location}}, "");
    if (r.method == "HEAD") return reply(404, {}, "");
    return reply(307, {{"Location", location}}, "");
  });
  std::string evil_at = "127.0.0.2:" + std::to_string(evil.port());
  for (const std::string& hostile : std::vector<std::string>{"http://" + evil_at + "/blob", "http://localhost@" + evil_at + "/blob",
                                     "http://localhost.evil.example/blob", "ftp://localhost/blob"}) {
    location = hostile;
    RegistryClient client(registry.host_port(), with_credentials(), true);
    auto opened = client.open_blob("demo/app", blob_descriptor());
    ASSERT_FALSE(opened.ok()) << hostile;
    EXPECT_NE(opened.error().message.find("redirect"), std::string::npos) << hostile << ": " << opened.error().message;
    // An upload Location is followed by the same rule.
    auto reader = bytes_reader(std::string(kBlob));
    auto pushed = client.push_blob("demo/app", blob_descriptor(), *reader);
    ASSERT_FALSE(pushed.ok()) << hostile;
    EXPECT_NE(pushed.error().message.find("redirect"), std::string::npos) << hostile << ": " << pushed.error().message;
  }
  EXPECT_TRUE(evil.requests().empty());
}

TEST(RegistryClient, CredentialsStayWithTheRegistryOrigin) {
  ScriptedServer storage([](const ScriptedRequest&) { return reply(200, {}, std::string(kBlob)); });
  std::string basic = "Basic YWxpY2U6czNjcmV0";  // alice:s3cret
  ScriptedServer registry([&](const ScriptedRequest& r) {
    if (!r.headers.count("authorization") || r.headers.at("authorization") != basic)
      return reply(401, {{"WWW-Authenticate", "Basic realm=\"reg\""}}, "{}");
    if (r.target.ends_with("/moved")) return reply(307, {{"Location", "/v2/demo/app/blobs/here"}}, "");
    if (r.target.ends_with("/here")) return reply(307, {{"Location", "http://localhost:" + std::to_string(storage.port()) + "/b"}}, "");
    return reply(307, {{"Location", "/v2/demo/app/blobs/moved"}}, "");
  });
  RegistryClient client(registry.host_port(), with_credentials(), false);
  auto opened = client.open_blob("demo/app", blob_descriptor());
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto bytes = read_all(**opened, 1 << 20, "blob");
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(*bytes, kBlob);
  // Same-origin hops kept the credentials; the other origin never saw them.
  EXPECT_TRUE(saw(registry, "/here"));
  ASSERT_EQ(storage.requests().size(), 1u);
  EXPECT_FALSE(storage.requests()[0].has("authorization"));
}

TEST(RegistryClient, ATrickledBlobEndsAtTheDeadline) {
  std::string body(200, 'x');
  ScriptedServer registry([&](const ScriptedRequest&) {
    ScriptedReply r = reply(200, {}, body);
    r.trickle_bytes_per_second = 2;
    return r;
  });
  RegistryOptions o;
  o.max_retries = 0;
  o.timeout = std::chrono::seconds(2);
  RegistryClient client(registry.host_port(), o, false);
  Descriptor d;
  d.digest = Digest::sha256_of(as_bytes(body));
  d.size = static_cast<int64_t>(body.size());
  auto start = std::chrono::steady_clock::now();
  auto opened = client.open_blob("demo/app", d);
  Error e;
  if (opened.ok()) {
    auto bytes = read_all(**opened, 1 << 20, "blob");
    ASSERT_FALSE(bytes.ok());
    e = bytes.error();
  } else {
    e = opened.error();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(e.code, ErrorCode::kIo);
  EXPECT_NE(e.message.find("not finished within the 2s timeout"), std::string::npos) << e.message;
}

TEST(RegistryClient, ADeclaredLengthAboveTheDescriptorIsRefusedBeforeReading) {
  ScriptedServer registry([&](const ScriptedRequest&) {
    ScriptedReply r = reply(200, {}, std::string(kBlob));
    r.content_length = 100000;
    r.trickle_bytes_per_second = 1;
    return r;
  });
  RegistryOptions o;
  o.max_retries = 0;
  RegistryClient client(registry.host_port(), o, false);
  auto start = std::chrono::steady_clock::now();
  auto opened = client.open_blob("demo/app", blob_descriptor());
  ASSERT_FALSE(opened.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(opened.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(opened.error().message.find("declares 100000 bytes, more than the 11 bytes"), std::string::npos)
      << opened.error().message;
}

}  // namespace
}  // namespace vouch::oci
