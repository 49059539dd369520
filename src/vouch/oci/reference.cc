#include "vouch/oci/reference.h"

#include <re2/re2.h>

#include "vouch/crypto/digest.h"

namespace vouch::oci {
namespace {

// The grammar of distribution's reference package, composed the same way.
const std::string kAlphaNumeric = "[a-z0-9]+";
const std::string kSeparator = "(?:[._]|__|[-]+)";
const std::string kPathComponent = kAlphaNumeric + "(?:" + kSeparator + kAlphaNumeric + ")*";
const std::string kDomainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const std::string kIpv6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const std::string kDomainName = kDomainComponent + "(?:\\." + kDomainComponent + ")*";
const std::string kHost = "(?:" + kDomainName + "|" + kIpv6 + ")";
const std::string kDomainAndPort = kHost + "(?::[0-9]+)?";
const std::string kTag = "[\\w][\\w.-]{0,127}";
const std::string kDigest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}";
const std::string kRemoteName = kPathComponent + "(?:/" + kPathComponent + ")*";
const std::string kName = "(?:" + kDomainAndPort + "/)?" + kRemoteName;

const RE2& reference_re() {
  static const RE2 re("(" + kName + ")(?::(" + kTag + "))?(?:@(" + kDigest + "))?");
  return re;
}
const RE2& identifier_re() {
  static const RE2 re("[a-f0-9]{64}");
  return re;
}

bool is_lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

constexpr size_t kMaxNameLength = 255;

Result<Reference> parse_impl(std::string_view text, bool default_tag) {
  if (text.empty()) return invalid_input("image reference: empty");
  if (text.size() > 4096) return invalid_input("image reference: longer than 4096 characters");
  std::string s(text);
  if (RE2::FullMatch(s, identifier_re()))
    return invalid_input(fmt::format(
        "image reference '{}': a 64-character hexadecimal string is an image ID, not a repository name", s));
  // Split the domain as docker does: the first component is a registry when it holds '.'
  // or ':' or is "localhost" or has upper case.
  std::string domain(kDefaultDomain);
  std::string remainder = s;
  size_t slash = s.find('/');
  if (slash != std::string::npos) {
    std::string first = s.substr(0, slash);
    bool lower = true;
    for (char c : first)
      if (c >= 'A' && c <= 'Z') lower = false;
    if (first.find_first_of(".:") != std::string::npos || first == "localhost" || !lower) {
      domain = first;
      remainder = s.substr(slash + 1);
    }
  }
  if (domain == "index.docker.io") domain = std::string(kDefaultDomain);
  if (domain == kDefaultDomain && remainder.find('/') == std::string::npos) {
    // "alpine", "alpine:3", "alpine@sha256:…" (the '/' test is on the path only)
    remainder = "library/" + remainder;
  }
  // The repository part (before ':' tag / '@' digest) must be lower case.
  std::string_view repo_part = remainder;
  if (size_t at = repo_part.find('@'); at != std::string_view::npos) repo_part = repo_part.substr(0, at);
  if (size_t colon = repo_part.find(':'); colon != std::string_view::npos) repo_part = repo_part.substr(0, colon);
  for (char c : repo_part)
    if (c >= 'A' && c <= 'Z')
      return invalid_input(fmt::format("image reference '{}': repository name must be lowercase", s));

  std::string full = domain + "/" + remainder;
  std::string name, tag, digest;
  if (!RE2::FullMatch(full, reference_re(), &name, &tag, &digest))
    return invalid_input(fmt::format("image reference '{}': invalid reference format", s));
  if (name.size() > kMaxNameLength)
    return invalid_input(fmt::format("image reference '{}': repository name must not be more than {} characters", s,
                                     kMaxNameLength));
  Reference ref;
  ref.registry = domain;
  ref.repository = name.substr(domain.size() + 1);
  if (!tag.empty()) ref.tag = tag;
  if (!digest.empty()) {
    auto d = Digest::parse(digest);
    if (!d.ok()) return std::move(d).error().context(fmt::format("image reference '{}'", s));
    ref.digest = *d;
  }
  if (default_tag && !ref.tag && !ref.digest) ref.tag = std::string(kDefaultTag);
  return ref;
}

}  // namespace

Result<Digest> Digest::parse(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return invalid_input(fmt::format("digest '{}': expected algorithm:hex", text.substr(0, 200)));
  std::string_view alg = text.substr(0, colon), hex = text.substr(colon + 1);
  size_t want = 0;
  if (alg == "sha256") {
    want = 64;
  } else if (alg == "sha512") {
    want = 128;
  } else {
    return invalid_input(fmt::format("digest '{}': unsupported digest algorithm '{}'", text.substr(0, 200),
                                     alg.substr(0, 64)));
  }
  if (hex.size() != want)
    return invalid_input(fmt::format("digest '{}': {} needs {} hex digits, got {}", text.substr(0, 200), alg, want,
                                     hex.size()));
  if (!is_lower_hex(hex))
    return invalid_input(fmt::format("digest '{}': not lowercase hexadecimal", text.substr(0, 200)));
  Digest d;
  d.algorithm_ = std::string(alg);
  d.hex_ = std::string(hex);
  return d;
}

Digest Digest::sha256_of(ByteView data) {
  Digest d;
  d.algorithm_ = "sha256";
  d.hex_ = hex_encode(crypto::sha256(data));
  return d;
}

Digest Digest::sha256_from_hex(std::string hex) {
  Digest d;
  d.algorithm_ = "sha256";
  d.hex_ = std::move(hex);
  return d;
}

bool Digest::matches(ByteView data) const {
  auto alg = algorithm_ == "sha512" ? crypto::HashAlgorithm::kSha512 : crypto::HashAlgorithm::kSha256;
  return hex_encode(crypto::digest(alg, data)) == hex_;
}

Status Digest::verify(ByteView data, std::string_view what) const {
  if (matches(data)) return ok_status();
  Digester dg(algorithm_);
  dg.update(data);
  return verification_failed(
      fmt::format("{}: content does not match its digest: expected {}, got {}", what, str(), dg.finish().str()));
}

struct Digester::Impl {
  crypto::Hasher hasher;
};

Digester::Digester(std::string_view algorithm)
    : impl_(std::make_unique<Impl>(Impl{crypto::Hasher(algorithm == "sha512" ? crypto::HashAlgorithm::kSha512
                                                                             : crypto::HashAlgorithm::kSha256)})),
      algorithm_(algorithm == "sha512" ? "sha512" : "sha256") {}
Digester::~Digester() = default;
Digester::Digester(Digester&&) noexcept = default;
Digester& Digester::operator=(Digester&&) noexcept = default;
void Digester::update(ByteView data) { impl_->hasher.update(data); }
Digest Digester::finish() {
  std::string hex = hex_encode(impl_->hasher.finish());
  auto d = Digest::parse(algorithm_ + ":" + hex);
  return *d;
}

std::string Reference::name() const { return registry + "/" + repository; }

std::string Reference::str() const {
  std::string s = name();
  if (tag) s += ":" + *tag;
  if (digest) s += "@" + digest->str();
  return s;
}

std::string Reference::identifier() const {
  if (digest) return digest->str();
  return tag.value_or(std::string(kDefaultTag));
}

Reference Reference::with_tag(std::string t) const {
  Reference r{registry, repository, std::move(t), std::nullopt};
  return r;
}

Reference Reference::with_digest(Digest d) const {
  Reference r{registry, repository, std::nullopt, std::move(d)};
  return r;
}

Result<Reference> parse_reference(std::string_view text) { return parse_impl(text, true); }
Result<Reference> parse_reference_no_default_tag(std::string_view text) { return parse_impl(text, false); }

std::string_view transport_name(Transport t) {
  switch (t) {
    case Transport::kRegistry: return "docker";
    case Transport::kOciLayout: return "oci";
    case Transport::kDockerArchive: return "docker-archive";
    case Transport::kDir: return "dir";
  }
  return "?";
}

std::string ImageRef::str() const {
  switch (transport) {
    case Transport::kRegistry: return reference.str();
    case Transport::kOciLayout:
      if (digest) return "oci:" + path + "@" + digest->str();
      return "oci:" + path + (tag ? ":" + *tag : "");
    case Transport::kDockerArchive: return "docker-archive:" + path + (tag ? ":" + *tag : "");
    case Transport::kDir: return "dir:" + path;
  }
  return {};
}

Result<ImageRef> parse_image_ref(std::string_view text) {
  ImageRef out;
  auto path_error = [&](std::string_view what) {
    return invalid_input(fmt::format("image '{}': {}", text.substr(0, 300), what));
  };
  if (text.starts_with("oci:")) {
    out.transport = Transport::kOciLayout;
    std::string_view rest = text.substr(4);
    // PATH@algorithm:hex — a digest at the end wins over a ':tag' split.
    if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
      auto d = Digest::parse(rest.substr(at + 1));
      if (!d.ok()) return std::move(d).error().context(fmt::format("image '{}'", text.substr(0, 300)));
      out.digest = *d;
      out.path = std::string(rest.substr(0, at));
    } else if (size_t colon = rest.find(':'); colon != std::string_view::npos) {
      out.path = std::string(rest.substr(0, colon));
      std::string tag(rest.substr(colon + 1));
      if (tag.empty()) return path_error("empty tag after ':'");
      if (tag.size() > 512) return path_error("tag longer than 512 characters");
      out.tag = tag;
    } else {
      out.path = std::string(rest);
    }
    if (out.path.empty()) return path_error("missing layout path");
    return out;
  }
  if (text.starts_with("docker-archive:")) {
    out.transport = Transport::kDockerArchive;
    std::string_view rest = text.substr(15);
    if (size_t colon = rest.find(':'); colon != std::string_view::npos) {
      out.path = std::string(rest.substr(0, colon));
      auto ref = parse_reference_no_default_tag(rest.substr(colon + 1));
      if (!ref.ok()) return std::move(ref).error().context(fmt::format("image '{}'", text.substr(0, 300)));
      if (ref->digest) return path_error("a docker-archive name cannot carry a digest");
      out.tag = std::string(rest.substr(colon + 1));
    } else {
      out.path = std::string(rest);
    }
    if (out.path.empty()) return path_error("missing archive path");
    return out;
  }
  if (text.starts_with("dir:")) {
    out.transport = Transport::kDir;
    out.path = std::string(text.substr(4));
    if (out.path.empty()) return path_error("missing directory path");
    return out;
  }
  std::string_view ref_text = text;
  if (ref_text.starts_with("docker://")) ref_text = ref_text.substr(9);
  VOUCH_ASSIGN_OR_RETURN(out.reference, parse_reference(ref_text));
  out.transport = Transport::kRegistry;
  return out;
}

}  // namespace vouch::oci
