// notation sign|verify|list|verify-envelope: Notary Project signatures (JWS or COSE envelopes
// stored as OCI referrers), verified under notation's trust policies and trust stores.
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/crypto/x509.h"
#include "vouch/notation/envelope.h"
#include "vouch/notation/signatures.h"
#include "vouch/notation/trust_policy.h"
#include "vouch/notation/verifier.h"
#include "vouch/oci/store.h"
#include "vouch/sigstore/keyless.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;

// notation's configuration directory: $XDG_CONFIG_HOME/notation, else ~/.config/notation.
fs::path notation_config_dir() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) return fs::path(xdg) / "notation";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".config" / "notation";
  return fs::path(".config") / "notation";
}

struct TrustFlags {
  std::string trust_policy;
  std::string trust_store;
  std::vector<std::string> user_metadata;

  void add(CLI::App* cmd) {
    cmd->add_option("--trust-policy", trust_policy,
                    "Trust policy file (default: trustpolicy.oci.json or trustpolicy.json in $XDG_CONFIG_HOME/notation)");
    cmd->add_option("--trust-store", trust_store,
                    "Trust store directory holding x509/{ca,signingAuthority,tsa}/<name>/ (default: "
                    "$XDG_CONFIG_HOME/notation/truststore)");
    cmd->add_option("-m,--user-metadata", user_metadata, "key=value the signed payload's annotations must hold (repeatable)")
        ->allow_extra_args(false);
  }
  Result<notation::TrustPolicyDocument> policy() const {
    if (trust_policy.empty()) return notation::load_trust_policy(notation_config_dir());
    VOUCH_ASSIGN_OR_RETURN(auto text, read_regular_file_no_follow(trust_policy, 1024 * 1024));
    auto doc = notation::parse_trust_policy(text);
    if (!doc.ok()) return std::move(doc).error().context(trust_policy);
    return doc;
  }
  notation::TrustStore store() const {
    return notation::TrustStore::directory(trust_store.empty() ? notation_config_dir() / "truststore" : fs::path(trust_store));
  }
  Result<std::map<std::string, std::string>> metadata() const {
    std::map<std::string, std::string> out;
    for (const auto& item : user_metadata) {
      auto eq = item.find('=');
      if (eq == std::string::npos || eq == 0) return invalid_input(fmt::format("user metadata '{}': want key=value", item));
      out[item.substr(0, eq)] = item.substr(eq + 1);
    }
    return out;
  }
};

struct RegistryFlags {
  bool allow_insecure = false;
  std::string username, password;
  TimeoutFlag timeout;

  void add(CLI::App* cmd) {
    timeout.add(cmd);
    cmd->add_flag("--allow-insecure-registry", allow_insecure,
                  "Allow plain HTTP and unverified TLS for registries other than localhost");
    cmd->add_option("--username", username, "Registry user name (default: from ~/.docker/config.json)");
    cmd->add_option("--password", password, "Registry password (default: from ~/.docker/config.json)");
  }
  Result<std::unique_ptr<oci::Store>> open(const oci::ImageRef& ref, bool write) const {
    oci::StoreOptions o;
    o.allow_insecure = allow_insecure;
    o.username = username;
    o.password = password;
    o.timeout = timeout.duration();
    return oci::open_store(ref, o, write);
  }
};

// The registry/repository a trust policy scope names, for a registry reference; --scope otherwise.
Result<std::string> scope_of(const oci::ImageRef& ref, const std::string& scope_flag) {
  if (!scope_flag.empty()) return scope_flag;
  if (ref.transport != oci::Transport::kRegistry)
    return invalid_input(fmt::format("{}: give the trust policy scope with --scope REGISTRY/REPOSITORY", ref.str()));
  return ref.reference.name();
}

void print_outcome_text(const notation::VerificationOutcome& o) {
  for (const auto& l : o.logged) std::cerr << "vouch: warning: " << printable_line(l) << "\n";
}

// ---- verify-envelope ----

struct EnvelopeCmd {
  std::string file, digest, media_type, scope, output = "text";
  int64_t size = -1;
  TrustFlags trust;
};

Status verify_envelope_cmd(const EnvelopeCmd& c, int& exit_code) {
  VOUCH_ASSIGN_OR_RETURN(auto data, read_file(c.file, 16 * 1024 * 1024));
  VOUCH_ASSIGN_OR_RETURN(auto format, notation::detect_envelope_format(as_bytes(data)));
  auto digest = oci::Digest::parse(c.digest);
  if (!digest.ok()) return invalid_input(fmt::format("--digest {}: want ALGORITHM:HEX", c.digest));
  notation::TargetArtifact artifact{c.media_type, digest->str(), c.size, {}, {}};
  // --media-type and --size default to what the envelope signed; the digest is always given.
  if (auto env = notation::parse_envelope(as_bytes(data), format); env.ok()) {
    if (auto signed_target = notation::parse_payload(env->payload); signed_target.ok()) {
      if (artifact.media_type.empty()) artifact.media_type = signed_target->media_type;
      if (artifact.size < 0) artifact.size = signed_target->size;
    }
  }
  VOUCH_ASSIGN_OR_RETURN(auto policy, c.trust.policy());
  auto store = c.trust.store();
  VOUCH_ASSIGN_OR_RETURN(auto metadata, c.trust.metadata());
  notation::VerifyRequest request{as_bytes(data), format, artifact, c.scope, metadata};
  VOUCH_ASSIGN_OR_RETURN(auto outcome, notation::verify_envelope(request, {&policy, &store, now_unix()}));
  if (c.output == "json") {
    print_json(outcome.to_json());
    exit_code = outcome.verified ? kExitOk : kExitFailed;
    return ok_status();
  }
  print_outcome_text(outcome);
  if (!outcome.verified) return verification_failed(fmt::format("{}: {}", c.file, outcome.failure));
  if (outcome.level == "skip")
    fmt::print("Trust policy \"{}\" skips verification for {}\n", outcome.policy, c.scope);
  else
    fmt::print("Successfully verified the {} signature of {}@{} (trust policy \"{}\", level {})\n",
               notation::envelope_media_type(format), c.scope, artifact.digest, outcome.policy, outcome.level);
  return ok_status();
}

// ---- sign ----

struct SignCmd {
  std::string key, cert, format = "jws", expiry, timestamp_url, image, output = "text";
  RegistryFlags registry;
};

Result<int64_t> parse_duration(std::string_view text) {
  if (text.size() < 2) return invalid_input(fmt::format("--expiry {}: want a duration such as 24h, 30m or 7d", text));
  int64_t unit = 0;
  switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
  }
  int64_t n = 0;
  std::string_view digits = text.substr(0, text.size() - 1);
  for (char ch : digits) {
    if (ch < '0' || ch > '9' || n > 1'000'000'000) return invalid_input(fmt::format("--expiry {}: want a duration such as 24h", text));
    n = n * 10 + (ch - '0');
  }
  if (unit == 0 || n == 0) return invalid_input(fmt::format("--expiry {}: want a positive duration such as 24h, 30m or 7d", text));
  return n * unit;
}

// The key and certificate files of a key named in notation's signingkeys.json (`notation key
// add`, `notation cert generate-test`): --key NAME, or the default key when --key is not given.
Result<std::pair<std::string, std::string>> named_signing_key(const std::string& name) {
  const fs::path file = notation_config_dir() / "signingkeys.json";
  auto text = read_file(file, 1024 * 1024);
  if (!text.ok())
    return invalid_input(fmt::format("{}signing key: give --key FILE --cert FILE, or add keys to {} (notation key add)",
                                     name.empty() ? "no " : "--key " + name + ": no ", file.string()));
  VOUCH_ASSIGN_OR_RETURN(boost::json::value doc, json::parse(*text));
  const auto* o = doc.if_object();
  if (!o) return invalid_input(fmt::format("{}: expected an object", file.string()));
  std::string wanted = name;
  if (wanted.empty()) {
    const auto* d = o->if_contains("default");
    if (!d || !d->is_string() || d->get_string().empty())
      return invalid_input(fmt::format("{}: no default key; give --key NAME", file.string()));
    wanted = std::string(d->get_string());
  }
  const auto* keys = o->if_contains("keys");
  if (!keys || !keys->is_array()) return invalid_input(fmt::format("{}: keys: expected a list", file.string()));
  for (const auto& k : keys->get_array()) {
    const auto* ko = k.if_object();
    if (!ko || !ko->contains("name") || !ko->at("name").is_string() || ko->at("name").get_string() != wanted) continue;
    if (ko->contains("pluginName"))
      return invalid_input(fmt::format("{}: key {} is held by plugin {}; plugins are not supported", file.string(), wanted,
                                       boost::json::serialize(ko->at("pluginName"))));
    const auto* key = ko->if_contains("keyPath");
    const auto* cert = ko->if_contains("certPath");
    if (!key || !key->is_string() || !cert || !cert->is_string())
      return invalid_input(fmt::format("{}: key {}: keyPath and certPath are required", file.string(), wanted));
    return std::make_pair(std::string(key->get_string()), std::string(cert->get_string()));
  }
  return not_found(fmt::format("{}: no signing key named {}", file.string(), wanted));
}

Status sign_cmd(const SignCmd& c) {
  VOUCH_ASSIGN_OR_RETURN(auto format, notation::envelope_format_from_media_type(
                                          c.format == "cose" ? notation::kCoseMediaType : notation::kJwsMediaType));
  std::string key_file = c.key, cert_file = c.cert;
  if (cert_file.empty()) {
    // notation's form: --key names a key of signingkeys.json (or the default one).
    VOUCH_ASSIGN_OR_RETURN(auto named, named_signing_key(c.key));
    key_file = named.first;
    cert_file = named.second;
  } else if (key_file.empty()) {
    return invalid_input("--cert needs --key FILE");
  }
  VOUCH_ASSIGN_OR_RETURN(auto key, load_private_key(key_file));
  VOUCH_ASSIGN_OR_RETURN(auto chain_pem, read_file(cert_file, 1024 * 1024));
  VOUCH_ASSIGN_OR_RETURN(auto chain, crypto::Certificate::all_from_pem(chain_pem));
  VOUCH_ASSIGN_OR_RETURN(auto ref, oci::parse_image_ref(c.image));
  VOUCH_ASSIGN_OR_RETURN(auto store, c.registry.open(ref, true));
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, store->get_root());
  oci::Descriptor subject = root.descriptor();

  notation::SignOptions options;
  options.format = format;
  options.signing_time = now_unix();
  options.signing_agent = "vouch";
  if (!c.expiry.empty()) {
    VOUCH_ASSIGN_OR_RETURN(int64_t seconds, parse_duration(c.expiry));
    options.expiry = options.signing_time + seconds;
  }
  if (!c.timestamp_url.empty()) {
    const std::string url = c.timestamp_url;
    const auto deadline = c.registry.timeout.deadline();
    options.timestamper = [url, deadline](ByteView signature) -> Result<Bytes> {
      auto response = sigstore::request_timestamp(url, signature, deadline);
      if (!response.ok()) return std::move(response).error().context("timestamp authority");
      return notation::timestamp_token_from_response(*response);
    };
  }
  notation::TargetArtifact target{subject.media_type, subject.digest.str(), subject.size, {}, {}};
  VOUCH_ASSIGN_OR_RETURN(auto envelope, notation::sign_envelope(target, key, chain, options));
  VOUCH_ASSIGN_OR_RETURN(auto stored, notation::push_signature(*store, subject, to_string(envelope), format, chain));
  VOUCH_RETURN_IF_ERROR(store->commit());
  std::string name = ref.transport == oci::Transport::kRegistry ? ref.reference.name() : ref.str();
  if (c.output == "json") {
    print_json(bj::object{{"subject", subject.to_json()},
                          {"signature", stored.to_json()},
                          {"envelope", std::string(notation::envelope_media_type(format))}});
    return ok_status();
  }
  fmt::print("Successfully signed {}@{}\nSignature: {}@{} ({})\n", name, subject.digest.str(), name, stored.digest.str(),
             notation::envelope_media_type(format));
  return ok_status();
}

// ---- verify ----

struct VerifyCmd {
  std::string image, scope, output = "text";
  size_t max_signatures = 100;
  TrustFlags trust;
  RegistryFlags registry;
};

Status verify_cmd(const VerifyCmd& c, int& exit_code) {
  VOUCH_ASSIGN_OR_RETURN(auto ref, oci::parse_image_ref(c.image));
  VOUCH_ASSIGN_OR_RETURN(auto scope, scope_of(ref, c.scope));
  VOUCH_ASSIGN_OR_RETURN(auto policy, c.trust.policy());
  auto trust_store = c.trust.store();
  VOUCH_ASSIGN_OR_RETURN(auto metadata, c.trust.metadata());
  VOUCH_ASSIGN_OR_RETURN(auto store, c.registry.open(ref, false));
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, store->get_root());
  notation::SignatureLimits limits;
  limits.max_signatures = c.max_signatures;
  VOUCH_ASSIGN_OR_RETURN(auto result, notation::verify_image(*store, root.descriptor(), scope,
                                                             {&policy, &trust_store, now_unix()}, metadata, limits));
  if (c.output == "json") {
    bj::array sigs;
    for (const auto& [d, outcome] : result.signatures) {
      auto o = outcome.to_json();
      o["signatureManifest"] = d.digest.str();
      sigs.push_back(std::move(o));
    }
    bj::object out{{"reference", fmt::format("{}@{}", scope, root.digest.str())},
                   {"verified", result.verified},
                   {"trustPolicy", result.policy},
                   {"level", result.level},
                   {"signatures", std::move(sigs)}};
    if (!result.verified) out["error"] = result.failure;
    print_json(out);
    exit_code = result.verified ? kExitOk : kExitFailed;
    return ok_status();
  }
  if (!result.verified) return verification_failed(result.failure);
  if (result.level == "skip") {
    fmt::print("Trust policy \"{}\" skips verification for {}@{}\n", result.policy, scope, root.digest.str());
    return ok_status();
  }
  print_outcome_text(result.signatures.back().second);
  fmt::print("Successfully verified signature for {}@{} (trust policy \"{}\", level {})\n", scope, root.digest.str(),
             result.policy, result.level);
  return ok_status();
}

// ---- list ----

struct ListCmd {
  std::string image, output = "text";
  RegistryFlags registry;
};

Status list_cmd(const ListCmd& c) {
  VOUCH_ASSIGN_OR_RETURN(auto ref, oci::parse_image_ref(c.image));
  VOUCH_ASSIGN_OR_RETURN(auto store, c.registry.open(ref, false));
  VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, store->get_root());
  VOUCH_ASSIGN_OR_RETURN(auto manifests, notation::list_signatures(*store, root.digest));
  std::string name = ref.transport == oci::Transport::kRegistry ? ref.reference.name() : ref.str();
  if (c.output == "json") {
    bj::array sigs;
    for (const auto& d : manifests) {
      bj::object o = d.to_json();
      if (auto sig = notation::fetch_signature(*store, d, root.digest); sig.ok())
        o["envelope"] = std::string(notation::envelope_media_type(sig->format));
      sigs.push_back(std::move(o));
    }
    print_json(bj::object{{"reference", fmt::format("{}@{}", name, root.digest.str())}, {"signatures", std::move(sigs)}});
    return ok_status();
  }
  if (manifests.empty()) {
    fmt::print("{}@{} has no associated signature\n", name, root.digest.str());
    return ok_status();
  }
  fmt::print("{}@{}\n└── {}\n", name, root.digest.str(), notation::kSignatureArtifactType);
  for (size_t i = 0; i < manifests.size(); ++i) {
    auto sig = notation::fetch_signature(*store, manifests[i], root.digest);
    std::string kind = sig.ok() ? std::string(notation::envelope_media_type(sig->format)) : "unreadable: " + sig.error().message;
    fmt::print("    {}── {} ({})\n", i + 1 == manifests.size() ? "└" : "├", manifests[i].digest.str(), printable_line(kind));
  }
  return ok_status();
}

}  // namespace

void register_notation_commands(CLI::App& app, int& exit_code) {
  auto* notation = app.add_subcommand("notation", "Notary Project signatures: sign, verify, list, verify-envelope");
  notation->require_subcommand(1);

  auto ec = std::make_shared<EnvelopeCmd>();
  auto* envelope = notation->add_subcommand(
      "verify-envelope",
      "Verify one signature envelope (JWS or COSE, detected) held in a file against the artifact it\n"
      "must describe, under the trust policy that --scope selects.");
  envelope->add_option("FILE", ec->file, "The signature envelope")->required();
  envelope->add_option("--digest", ec->digest, "The artifact's digest, ALGORITHM:HEX")->required();
  envelope->add_option("--size", ec->size, "The artifact's size in bytes (default: as signed)");
  envelope->add_option("--media-type", ec->media_type, "The artifact's media type (default: as signed)");
  envelope->add_option("--scope", ec->scope, "REGISTRY/REPOSITORY, to select the trust policy statement")->required();
  ec->trust.add(envelope);
  add_output_flag(envelope, ec->output);
  on_run(envelope, exit_code, [ec, &exit_code] { return verify_envelope_cmd(*ec, exit_code); });

  auto sc = std::make_shared<SignCmd>();
  auto* sign = notation->add_subcommand("sign", "Sign an image with a key and its X.509 certificate chain (notary.x509)");
  sign->add_option("--key", sc->key,
                   "The signing key: a PEM file with --cert, else the name of a key in notation's signingkeys.json\n"
                   "($XDG_CONFIG_HOME/notation; default: its default key)");
  sign->add_option("--cert", sc->cert, "The certificate chain of the --key file (PEM, leaf first)");
  sign->add_option("--signature-format", sc->format, "jws or cose")
      ->check(CLI::IsMember({"jws", "cose"}))
      ->capture_default_str();
  sign->add_option("--expiry", sc->expiry, "How long the signature stays valid (24h, 30m, 7d)");
  sign->add_option("--timestamp-url", sc->timestamp_url, "RFC 3161 timestamp authority to countersign the signature");
  sc->registry.add(sign);
  add_output_flag(sign, sc->output);
  sign->add_option("IMAGE", sc->image, "registry/repo[:tag|@digest], or oci:PATH[:tag]")->required();
  on_run(sign, exit_code, [sc] { return sign_cmd(*sc); });

  auto vc = std::make_shared<VerifyCmd>();
  auto* verify = notation->add_subcommand("verify", "Verify an image's Notary Project signatures under the trust policy");
  vc->trust.add(verify);
  vc->registry.add(verify);
  verify->add_option("--scope", vc->scope, "Trust policy scope (default: the image's registry/repository)");
  verify->add_option("--max-signatures", vc->max_signatures, "Most signatures to try")->capture_default_str();
  add_output_flag(verify, vc->output);
  verify->add_option("IMAGE", vc->image, "registry/repo[:tag|@digest], or oci:PATH[:tag]")->required();
  on_run(verify, exit_code, [vc, &exit_code] { return verify_cmd(*vc, exit_code); });

  auto lc = std::make_shared<ListCmd>();
  auto* list = notation->add_subcommand("list", "List the Notary Project signatures of an image");
  lc->registry.add(list);
  add_output_flag(list, lc->output);
  list->add_option("IMAGE", lc->image, "registry/repo[:tag|@digest], or oci:PATH[:tag]")->required();
  on_run(list, exit_code, [lc] { return list_cmd(*lc); });
}

}  // namespace vouch::cli
