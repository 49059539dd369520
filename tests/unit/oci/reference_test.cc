#include <gtest/gtest.h>

#include "vouch/oci/reference.h"

namespace vouch::oci {
namespace {

const std::string kHex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Case {
  std::string input;
  std::string registry, repository, tag, digest;
};

TEST(Reference, DockerDefaultsAndGrammar) {
  const Case cases[] = {
      {"alpine", "docker.io", "library/alpine", "latest", ""},
      {"alpine:3.19", "docker.io", "library/alpine", "3.19", ""},
      {"library/alpine", "docker.io", "library/alpine", "latest", ""},
      {"docker.io/alpine", "docker.io", "library/alpine", "latest", ""},
      {"index.docker.io/alpine", "docker.io", "library/alpine", "latest", ""},
      {"user/app", "docker.io", "user/app", "latest", ""},
      {"ghcr.io/sigstore/cosign/cosign:v2.2.0", "ghcr.io", "sigstore/cosign/cosign", "v2.2.0", ""},
      {"localhost/app", "localhost", "app", "latest", ""},
      {"localhost:5000/a/b", "localhost:5000", "a/b", "latest", ""},
      {"127.0.0.1:5000/demo/app:v1", "127.0.0.1:5000", "demo/app", "v1", ""},
      {"[::1]:5000/demo/app", "[::1]:5000", "demo/app", "latest", ""},
      {"Example.COM/app", "Example.COM", "app", "latest", ""},
      {"a.b/c__d/e-f.g_h", "a.b", "c__d/e-f.g_h", "latest", ""},
      {"a.b/c---d", "a.b", "c---d", "latest", ""},
      {"alpine@sha256:" + kHex, "docker.io", "library/alpine", "", "sha256:" + kHex},
      {"alpine:3@sha256:" + kHex, "docker.io", "library/alpine", "3", "sha256:" + kHex},
      {"reg:443/x:tag_1.A-b", "reg:443", "x", "tag_1.A-b", ""},
  };
  for (const auto& c : cases) {
    auto r = parse_reference(c.input);
    ASSERT_TRUE(r.ok()) << c.input << ": " << r.error().message;
    EXPECT_EQ(r->registry, c.registry) << c.input;
    EXPECT_EQ(r->repository, c.repository) << c.input;
    EXPECT_EQ(r->tag.value_or(""), c.tag) << c.input;
    EXPECT_EQ(r->digest ? r->digest->str() : "", c.digest) << c.input;
  }
  EXPECT_EQ(parse_reference("alpine")->str(), "docker.io/library/alpine:latest");
  EXPECT_EQ(parse_reference("alpine@sha256:" + kHex)->str(), "docker.io/library/alpine@sha256:" + kHex);
  EXPECT_EQ(parse_reference("alpine@sha256:" + kHex)->identifier(), "sha256:" + kHex);
  EXPECT_FALSE(parse_reference_no_default_tag("alpine")->tag.has_value());
}

TEST(Reference, Refused) {
  const std::string bad[] = {
      "",
      "Alpine",                    // upper case repository
      "docker.io/Library/alpine",  // upper case repository
      "alpine:",                   // empty tag
      "alpine:-x",                 // tag must start with a word character
      "alpine:" + std::string(129, 'a'),  // tag too long
      "a/b//c",
      "a/-b",
      "a/b-",
      "a/b.",
      "-host.com/a",
      "alpine@sha256:abc",                       // short digest
      "alpine@sha256:" + std::string(64, 'G'),   // not hex
      "alpine@sha256:" + std::string(64, 'A'),   // not lowercase
      "alpine@md5:" + std::string(32, 'a'),      // unsupported algorithm
      kHex,                                      // an image ID, not a name
      "host:port/a",
      "a b",
      "docker.io/" + std::string(250, 'a'),      // name longer than 255
  };
  for (const auto& b : bad) {
    auto r = parse_reference(b);
    EXPECT_FALSE(r.ok()) << "accepted: " << b;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
    }
  }
  EXPECT_NE(parse_reference("Alpine").error().message.find("lowercase"), std::string::npos);
  EXPECT_NE(parse_reference("alpine@md5:" + std::string(32, 'a')).error().message.find("unsupported digest algorithm"),
            std::string::npos);
}

TEST(Digest, ParseAndVerify) {
  auto d = Digest::parse("sha256:" + kHex);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->matches(ByteView()));
  EXPECT_TRUE(d->verify(ByteView(), "empty").ok());
  auto st = d->verify(as_bytes("x"), "blob");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kVerification);
  EXPECT_NE(st.error().message.find("does not match"), std::string::npos);
  EXPECT_TRUE(Digest::parse("sha512:" + std::string(128, 'a')).ok());
  EXPECT_FALSE(Digest::parse("sha512:" + std::string(64, 'a')).ok());
  EXPECT_FALSE(Digest::parse(":" + kHex).ok());
  EXPECT_FALSE(Digest::parse(kHex).ok());
  EXPECT_EQ(Digest::sha256_of(ByteView()), *d);
  Digester dg;
  dg.update(as_bytes("ab"));
  dg.update(as_bytes("c"));
  EXPECT_EQ(dg.finish(), Digest::sha256_of(as_bytes("abc")));
}

TEST(ImageRef, Transports) {
  auto o = parse_image_ref("oci:/tmp/layout:v1");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->transport, Transport::kOciLayout);
  EXPECT_EQ(o->path, "/tmp/layout");
  EXPECT_EQ(o->tag.value_or(""), "v1");
  auto od = parse_image_ref("oci:layout@sha256:" + kHex);
  ASSERT_TRUE(od.ok());
  EXPECT_EQ(od->path, "layout");
  EXPECT_EQ(od->digest->hex(), kHex);
  auto plain = parse_image_ref("oci:layout");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->tag.has_value());
  EXPECT_FALSE(parse_image_ref("oci:").ok());
  EXPECT_FALSE(parse_image_ref("oci:x:").ok());
  EXPECT_FALSE(parse_image_ref("oci:x@sha256:abc").ok());

  auto a = parse_image_ref("docker-archive:app.tar:demo/app:v1");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->transport, Transport::kDockerArchive);
  EXPECT_EQ(a->path, "app.tar");
  EXPECT_EQ(a->tag.value_or(""), "demo/app:v1");
  EXPECT_FALSE(parse_image_ref("docker-archive:app.tar:Bad").ok());
  EXPECT_EQ(parse_image_ref("docker-archive:app.tar")->tag, std::nullopt);

  auto d = parse_image_ref("dir:/x/y");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->transport, Transport::kDir);
  EXPECT_EQ(d->path, "/x/y");

  auto r = parse_image_ref("docker://alpine");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->transport, Transport::kRegistry);
  EXPECT_EQ(r->reference.str(), "docker.io/library/alpine:latest");
  EXPECT_EQ(parse_image_ref("quay.io/a/b:c")->reference.registry, "quay.io");
}

}  // namespace
}  // namespace vouch::oci
