#include <gtest/gtest.h>

#include "vouch/net/http.h"
#include "vouch/oci/manifest.h"
#include "vouch/oci/registry.h"
#include "vouch/base/file.h"
#include "vouch/net/url_policy.h"
#include <unistd.h>
#include <filesystem>

namespace vouch::oci {
namespace {

const std::string kHex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string kDesc = R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:)" + kHex +
                          R"(","size":0})";

TEST(Manifest, OciImageKeepsBytesAndDigest) {
  std::string text = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
                     std::string(R"({"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:)") + kHex +
                     R"(","size":0},"layers":[)" + kDesc + "," + kDesc + "]}";
  auto m = parse_manifest(text);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_FALSE(m->is_index());
  EXPECT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(m->bytes, text);
  EXPECT_EQ(m->digest, Digest::sha256_of(as_bytes(text)));
  EXPECT_EQ(compression_of(m->layers[0].media_type), Compression::kGzip);
}

TEST(Manifest, ArtifactWithSubjectAndIndex) {
  std::string text = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                     R"("artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json","config":)" +
                     std::string(R"({"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="},)") +
                     R"("layers":[)" + kDesc + R"(],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
                     kHex + R"(","size":10}})";
  auto m = parse_manifest(text);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->effective_artifact_type(), "application/vnd.dev.sigstore.bundle.v0.3+json");
  ASSERT_TRUE(m->subject.has_value());
  EXPECT_EQ(m->subject->digest.hex(), kHex);
  EXPECT_EQ(m->config->data.value_or(""), "{}");

  std::string index = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[)"
                      R"({"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:)" + kHex +
                      R"(","size":1,"platform":{"os":"linux","architecture":"amd64"}},)"
                      R"({"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha512:)" + std::string(128, 'b') +
                      R"(","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]})";
  auto i = parse_manifest(index);
  ASSERT_TRUE(i.ok()) << i.error().message;
  EXPECT_TRUE(i->is_index());
  auto arm = select_platform(*i, *parse_platform("linux/arm64"));
  ASSERT_TRUE(arm.ok());
  EXPECT_EQ(arm->digest.algorithm(), "sha512");
  auto amd = select_platform(*i, *parse_platform("linux/amd64"));
  ASSERT_TRUE(amd.ok());
  EXPECT_EQ(amd->digest.hex(), kHex);
  auto none = select_platform(*i, *parse_platform("linux/s390x"));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("linux/amd64, linux/arm64/v8"), std::string::npos) << none.error().message;
}

TEST(Manifest, Refusals) {
  auto s1 = parse_manifest(R"({"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]})");
  ASSERT_FALSE(s1.ok());
  EXPECT_NE(s1.error().message.find("schema 1"), std::string::npos);
  auto s1ct = parse_manifest("{}", media_type::kDockerSchema1Signed);
  ASSERT_FALSE(s1ct.ok());
  EXPECT_NE(s1ct.error().message.find("schema 1"), std::string::npos);
  std::string big(kMaxManifestBytes + 1, ' ');
  auto b = parse_manifest(big);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("exceeds the limit"), std::string::npos);
  EXPECT_FALSE(parse_manifest(R"({"schemaVersion":2,"mediaType":"text/plain"})").ok());
  EXPECT_FALSE(parse_manifest(R"({"schemaVersion":2,"manifests":[],"layers":[]})").ok());
  // A bad digest in a descriptor names where it is.
  auto bad = parse_manifest(R"({"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:abc","size":1}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("manifests[0].digest"), std::string::npos) << bad.error().message;
  // Embedded data must match its digest.
  auto data = parse_manifest(R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:)" + kHex +
                             R"(","size":2,"data":"e30="},"layers":[]})");
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.error().code, ErrorCode::kVerification);
  // mediaType and Content-Type disagreeing.
  EXPECT_FALSE(parse_manifest(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})",
                              media_type::kDockerManifest)
                   .ok());
  auto neg = parse_manifest(R"({"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:)" + kHex + R"(","size":-1}]})");
  EXPECT_FALSE(neg.ok());
}

TEST(Platform, Matching) {
  Platform arm64{"linux", "arm64", "", "", {}};
  Platform arm64v8{"linux", "arm64", "v8", "", {}};
  Platform armv7{"linux", "arm", "v7", "", {}};
  Platform armv6{"linux", "arm", "v6", "", {}};
  EXPECT_TRUE(platform_matches(arm64, arm64v8));
  EXPECT_TRUE(platform_matches(arm64v8, arm64));
  EXPECT_TRUE(platform_matches(Platform{"linux", "arm", "", "", {}}, armv7));
  EXPECT_FALSE(platform_matches(Platform{"linux", "arm", "", "", {}}, armv6));
  EXPECT_FALSE(platform_matches(Platform{"windows", "amd64", "", "", {}}, Platform{"linux", "amd64", "", "", {}}));
  EXPECT_EQ(parse_platform("linux/arm/v7")->str(), "linux/arm/v7");
  EXPECT_FALSE(parse_platform("linux//v7").ok());
  EXPECT_FALSE(parse_platform("a/b/c/d").ok());
  EXPECT_EQ(host_platform().os, "linux");
}

TEST(Http, WwwAuthenticate) {
  auto c = net::parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].params["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(c[0].params["service"], "registry.docker.io");
  EXPECT_EQ(c[0].params["scope"], "repository:library/alpine:pull");
  auto two = net::parse_www_authenticate(R"(Basic realm="x y", Bearer realm=https://a/t,service=s)");
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].scheme, "basic");
  EXPECT_EQ(two[0].params["realm"], "x y");
  EXPECT_EQ(two[1].params["realm"], "https://a/t");
  EXPECT_EQ(two[1].params["service"], "s");
  EXPECT_TRUE(net::parse_www_authenticate("").empty());
}

TEST(Http, BackoffGrowsAndIsCapped) {
  net::ClientOptions o;
  o.initial_backoff = std::chrono::milliseconds(100);
  o.max_backoff = std::chrono::milliseconds(1000);
  auto d0 = net::backoff_delay(o, 0, std::nullopt).count();
  auto d3 = net::backoff_delay(o, 3, std::nullopt).count();
  auto d9 = net::backoff_delay(o, 9, std::nullopt).count();
  EXPECT_GE(d0, 87);
  EXPECT_LE(d0, 115);
  EXPECT_GE(d3, 700);
  EXPECT_LE(d9, 1125);
  EXPECT_GE(net::backoff_delay(o, 0, "1").count(), 875);  // Retry-After raises it
  EXPECT_LE(net::backoff_delay(o, 0, "3600").count(), 1125);  // … up to the cap
  EXPECT_EQ(net::url_escape("a b/c:d"), "a%20b%2Fc%3Ad");
}

TEST(Registry, LocalhostAndDockerConfig) {
  using net::is_localhost_registry;
  EXPECT_TRUE(is_localhost_registry("localhost:5000"));
  EXPECT_TRUE(is_localhost_registry("127.0.0.1:5000"));
  EXPECT_TRUE(is_localhost_registry("[::1]:5000"));
  EXPECT_FALSE(is_localhost_registry("127.0.0.1.example.com"));
  EXPECT_FALSE(is_localhost_registry("docker.io"));
  auto dir = std::filesystem::temp_directory_path() / ("vouch-dockercfg-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string cfg = (dir / "config.json").string();
  ASSERT_TRUE(write_file_atomic(cfg, R"({"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYTpzcw=="},)"
                                     R"("reg.example":{"username":"u2","password":"p2"}}})")
                  .ok());
  auto hub = credentials_from_docker_config(cfg, "docker.io");
  ASSERT_TRUE(hub.ok()) << hub.error().message;
  EXPECT_EQ(hub->username, "user");
  EXPECT_EQ(hub->password, "pa:ss");
  auto other = credentials_from_docker_config(cfg, "reg.example");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->username, "u2");
  EXPECT_TRUE(credentials_from_docker_config(cfg, "nowhere.example")->empty());
  EXPECT_TRUE(credentials_from_docker_config((dir / "missing.json").string(), "x")->empty());
  // A credential helper runs as docker runs it: docker-credential-<name> get, URL on stdin.
  std::string helper = (dir / "docker-credential-vouchtest").string();
  ASSERT_TRUE(write_file_atomic(helper, "#!/bin/sh\nread url\necho \"{\\\"Username\\\":\\\"h-$url\\\",\\\"Secret\\\":\\\"s\\\"}\"\n", 0755).ok());
  ASSERT_TRUE(write_file_atomic(cfg, R"({"credHelpers":{"helped.example":"vouchtest"},"credsStore":"vouchtest"})").ok());
  std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  setenv("PATH", (dir.string() + ":" + old_path).c_str(), 1);
  auto helped = credentials_from_docker_config(cfg, "helped.example");
  auto stored = credentials_from_docker_config(cfg, "other.example");
  setenv("PATH", old_path.c_str(), 1);
  ASSERT_TRUE(helped.ok()) << helped.error().message;
  EXPECT_EQ(helped->username, "h-helped.example");
  EXPECT_EQ(helped->password, "s");
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(stored->username, "h-other.example");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vouch::oci
