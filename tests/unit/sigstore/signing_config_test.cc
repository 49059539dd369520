// The signing config as Sigstore publishes it, and how a client picks its services from it.
#include <gtest/gtest.h>

#include "../testdata.h"
#include "vouch/base/json.h"
#include "vouch/sigstore/keyless.h"
#include "vouch/sigstore/signing_config.h"

namespace vouch::sigstore {
namespace {

UnixSeconds at(const char* rfc3339) { return *parse_rfc3339(rfc3339); }

TEST(SigningConfig, ReadsThePublicGoodConfig) {
  auto c = parse_signing_config(testing::read_testdata("tuf/sigstore-root-signing/targets/signing_config.v0.2.json"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->ca_urls.size(), 1u);
  EXPECT_EQ(c->ca_urls[0].url, "https://fulcio.sigstore.dev");
  EXPECT_EQ(c->ca_urls[0].operator_name, "sigstore.dev");
  auto ca = select_service(c->ca_urls, {1}, at("2026-01-01T00:00:00Z"), "certificate authority");
  ASSERT_TRUE(ca.ok());
  EXPECT_EQ(ca->url, "https://fulcio.sigstore.dev");
  auto tsa = select_services(c->tsa_urls, c->tsa_config, {1}, at("2026-01-01T00:00:00Z"), "timestamp authority");
  ASSERT_TRUE(tsa.ok());
  ASSERT_EQ(tsa->size(), 1u);
  EXPECT_EQ(tsa->front().url, "https://timestamp.sigstore.dev/api/v1/timestamp");
  // Before the TSA came into service there is none to pick.
  EXPECT_FALSE(select_services(c->tsa_urls, c->tsa_config, {1}, at("2025-01-01T00:00:00Z"), "timestamp authority").ok());
}

TEST(SigningConfig, RoundTripsThroughJson) {
  auto c = parse_signing_config(testing::read_testdata("sigstore-trust/signing_config.production.json"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto again = parse_signing_config(json::serialize(signing_config_json(*c)));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->rekor_tlog_urls.size(), c->rekor_tlog_urls.size());
  EXPECT_EQ(again->rekor_tlog_urls[0].valid_for.start, c->rekor_tlog_urls[0].valid_for.start);
  EXPECT_EQ(again->tsa_config.selector, c->tsa_config.selector);
}

TEST(SigningConfig, PicksTheNewestSupportedVersionInService) {
  auto c = parse_signing_config(R"({"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json",
    "rekorTlogUrls":[
      {"url":"https://old","majorApiVersion":1,"validFor":{"start":"2020-01-01T00:00:00Z"}},
      {"url":"https://retired","majorApiVersion":1,"validFor":{"start":"2021-01-01T00:00:00Z","end":"2022-01-01T00:00:00Z"}},
      {"url":"https://new","majorApiVersion":1,"validFor":{"start":"2023-01-01T00:00:00Z"}},
      {"url":"https://v2","majorApiVersion":2,"validFor":{"start":"2024-01-01T00:00:00Z"}}],
    "rekorTlogConfig":{"selector":"ANY"}})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  const UnixSeconds now = at("2026-01-01T00:00:00Z");
  auto v1 = select_service(c->rekor_tlog_urls, {1}, now, "transparency log");
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->url, "https://new");
  auto v2 = select_service(c->rekor_tlog_urls, {1, 2}, now, "transparency log");
  EXPECT_EQ(v2->url, "https://v2");
  auto all = select_services(c->rekor_tlog_urls, {ServiceSelection::Selector::kAll, 0}, {1}, now, "transparency log");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);  // the retired one is out of service
  auto exact = select_services(c->rekor_tlog_urls, {ServiceSelection::Selector::kExact, 3}, {1}, now, "transparency log");
  ASSERT_FALSE(exact.ok());
  EXPECT_NE(exact.error().message.find("3 transparency log wanted"), std::string::npos) << exact.error().message;
}

TEST(SigningConfig, RefusesWhatItDoesNotKnow) {
  const std::string head = R"({"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json",)";
  struct Case {
    std::string json, want;
  } cases[] = {
      {head + R"("caUrls":[],"tlogs":[]})", "unknown field \"tlogs\""},
      {R"({"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.1+json"})", "media type"},
      {head + R"("caUrls":[{"url":"https://ca","majorApiVersion":1}]})", "validFor"},
      {head + R"("caUrls":[{"url":"ftp://ca","majorApiVersion":1,"validFor":{"start":"2020-01-01T00:00:00Z"}}]})", "not an http"},
      {head + R"("caUrls":[{"url":"https://ca","majorApiVersion":0,"validFor":{"start":"2020-01-01T00:00:00Z"}}]})", "positive"},
      {head + R"("tsaConfig":{"selector":"SOME"}})", "selector"},
      {head + R"("tsaConfig":{"selector":"EXACT"}})", "EXACT needs a count"},
      {head + R"("caUrls":[{"url":"https://ca","majorApiVersion":1,"validFor":{"start":"2020-01-01T00:00:00Z","end":"2019-01-01T00:00:00Z"}}]})", "end is before start"},
  };
  for (const auto& c : cases) {
    auto r = parse_signing_config(c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_NE(r.error().message.find(c.want), std::string::npos) << r.error().message;
  }
}

std::string jwt(std::string_view claims) {
  return base64url_encode(as_bytes(R"({"alg":"RS256"})")) + "." + base64url_encode(as_bytes(claims)) + ".c2ln";
}

TEST(IdentityToken, ChallengeIsTheVerifiedEmailElseTheSubject) {
  auto email = parse_identity_token(jwt(R"({"iss":"https://issuer","sub":"123","email":"a@example.com","email_verified":true})"));
  ASSERT_TRUE(email.ok()) << email.error().message;
  EXPECT_EQ(email->issuer, "https://issuer");
  EXPECT_EQ(email->challenge, "a@example.com");
  auto ci = parse_identity_token(jwt(R"({"iss":"https://ci","sub":"repo:example/app:ref:refs/heads/main"})") + "\n");
  ASSERT_TRUE(ci.ok()) << ci.error().message;
  EXPECT_EQ(ci->challenge, "repo:example/app:ref:refs/heads/main");
  EXPECT_NE(ci->raw.back(), '\n');  // the trailing newline of a token file is not part of it
}

TEST(IdentityToken, RefusesUnverifiedEmailAndMalformedTokens) {
  auto unverified = parse_identity_token(jwt(R"({"iss":"https://i","email":"a@example.com","email_verified":false})"));
  ASSERT_FALSE(unverified.ok());
  EXPECT_NE(unverified.error().message.find("not verified"), std::string::npos);
  EXPECT_FALSE(parse_identity_token(jwt(R"({"iss":"https://i","email":"a@example.com","email_verified":"true"})")).ok());
  EXPECT_FALSE(parse_identity_token(jwt(R"({"sub":"x"})")).ok());            // no issuer
  EXPECT_FALSE(parse_identity_token(jwt(R"({"iss":"https://i"})")).ok());    // nobody
  EXPECT_FALSE(parse_identity_token("a.b").ok());
  EXPECT_FALSE(parse_identity_token("a.b.c.d").ok());
  EXPECT_FALSE(parse_identity_token("e30.!!!.c2ln").ok());
}

}  // namespace
}  // namespace vouch::sigstore
