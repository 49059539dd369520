// Image references as users write them: the docker grammar with its defaults
// ("alpine" -> "docker.io/library/alpine:latest"), content digests, and the transports
// oci:PATH[:tag|@digest], docker-archive:FILE[:name:tag], dir:PATH and docker://REF.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"

namespace vouch::oci {

// A content digest "algorithm:hex", validated: sha256 (64 lowercase hex) or sha512 (128).
class Digest {
 public:
  static Result<Digest> parse(std::string_view text);
  static Digest sha256_of(ByteView data);
  static Digest sha256_from_hex(std::string hex);  // hex must already be 64 lowercase digits

  const std::string& algorithm() const { return algorithm_; }
  const std::string& hex() const { return hex_; }
  std::string str() const { return algorithm_ + ":" + hex_; }
  // Digest of `data` with this digest's algorithm, compared with this one.
  bool matches(ByteView data) const;
  // Fails with a verification error naming `what` when `data` does not hash to this digest.
  Status verify(ByteView data, std::string_view what) const;

  friend bool operator==(const Digest&, const Digest&) = default;
  friend auto operator<=>(const Digest&, const Digest&) = default;

 private:
  std::string algorithm_;
  std::string hex_;
};

// A streaming digester for one algorithm (the algorithm of the digest it will be compared with).
class Digester {
 public:
  explicit Digester(std::string_view algorithm = "sha256");
  ~Digester();
  Digester(Digester&&) noexcept;
  Digester& operator=(Digester&&) noexcept;
  void update(ByteView data);
  Digest finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string algorithm_;
};

constexpr std::string_view kDefaultDomain = "docker.io";
constexpr std::string_view kDefaultTag = "latest";

// A registry image reference: registry "docker.io", repository "library/alpine",
// tag and/or digest.
struct Reference {
  std::string registry;
  std::string repository;
  std::optional<std::string> tag;
  std::optional<Digest> digest;

  // "docker.io/library/alpine:latest", "host:5000/a/b:t@sha256:…" (always fully qualified).
  std::string str() const;
  // "docker.io/library/alpine" (registry/repository).
  std::string name() const;
  // The tag or digest to ask the registry for: the digest when present, else the tag.
  std::string identifier() const;
  // Same repository, another tag or digest.
  Reference with_tag(std::string t) const;
  Reference with_digest(Digest d) const;

  friend bool operator==(const Reference&, const Reference&) = default;
};

// Parses with docker's normalization: a missing registry is docker.io, a one-component
// docker.io repository gains "library/", and a reference with neither tag nor digest gets
// ":latest". "index.docker.io" is docker.io. Upper case in the repository is refused.
Result<Reference> parse_reference(std::string_view text);
// The same without adding the default tag (a name, or name:tag, or name@digest).
Result<Reference> parse_reference_no_default_tag(std::string_view text);

enum class Transport { kRegistry, kOciLayout, kDockerArchive, kDir };
std::string_view transport_name(Transport t);  // "docker", "oci", "docker-archive", "dir"

// An image location in any transport.
struct ImageRef {
  Transport transport = Transport::kRegistry;
  Reference reference;                 // kRegistry
  std::string path;                    // kOciLayout, kDockerArchive, kDir
  std::optional<std::string> tag;      // kOciLayout: the ref.name; kDockerArchive: "name:tag" in RepoTags
  std::optional<Digest> digest;        // kOciLayout: a manifest digest

  std::string str() const;
};

// "alpine", "docker://alpine", "oci:PATH", "oci:PATH:tag", "oci:PATH@sha256:…",
// "docker-archive:FILE", "docker-archive:FILE:name:tag", "dir:PATH".
Result<ImageRef> parse_image_ref(std::string_view text);

}  // namespace vouch::oci
