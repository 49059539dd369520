// sign, verify, attest, verify-attestation: image signatures and attestations in a registry
// (or an OCI layout), in both of cosign 3's storage layouts.
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/signing.h"
#include "cli/verify_flags.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/cosign/payload.h"
#include "vouch/cosign/sign.h"
#include "vouch/cosign/verify.h"
#include "vouch/crypto/cosign_key.h"
#include "vouch/intoto/predicate.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

struct ImageFlags {
  bool allow_insecure = false;
  std::string username, password;
  std::string output = "text";
  TimeoutFlag timeout;

  void add(CLI::App* cmd, std::string default_output) {
    output = std::move(default_output);
    timeout.add(cmd);
    cmd->add_flag("--allow-insecure-registry", allow_insecure,
                  "Allow plain HTTP and unverified TLS for registries other than localhost");
    cmd->add_option("--username", username, "Registry user name (default: from ~/.docker/config.json)");
    cmd->add_option("--password", password, "Registry password (default: from ~/.docker/config.json)");
    add_output_flag(cmd, output);
  }
  oci::StoreOptions store() const {
    oci::StoreOptions o;
    o.allow_insecure = allow_insecure;
    o.username = username;
    o.password = password;
    o.timeout = timeout.duration();
    return o;
  }
};

Result<std::map<std::string, std::string>> parse_annotations(const std::vector<std::string>& items) {
  std::map<std::string, std::string> out;
  for (const auto& a : items) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) return invalid_input(fmt::format("annotation '{}': want key=value", a));
    out[a.substr(0, eq)] = a.substr(eq + 1);
  }
  return out;
}

// ---- sign / attest ----

struct SignFlags {
  ImageFlags image;
  SigningFlags signing;
  bool recursive = false;
  std::vector<std::string> annotations;
  bool new_bundle_format = true;
  std::string type = "custom";  // attest
  std::string predicate;        // attest
  std::string ref;
};

void add_sign_flags(CLI::App* cmd, SignFlags& f, bool attest) {
  f.signing.add(cmd);
  cmd->add_flag("--recursive", f.recursive, "When IMAGE is an index, also sign every manifest in it");
  if (!attest)
    cmd->add_option("-a,--annotations", f.annotations, "key=value to put in the signed payload (repeatable)")
        ->allow_extra_args(false);
  cmd->add_flag("--new-bundle-format{true}", f.new_bundle_format,
                "Store a Sigstore bundle as an OCI 1.1 referrer (default); =false: the classic "
                "sha256-<hex>.sig/.att tag layout that skopeo, older cosign and Kyverno read")
      ->capture_default_str();
  if (attest) {
    cmd->add_option("--type", f.type,
                    "Predicate type: custom, slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, spdxjson, "
                    "cyclonedx, link, vuln, openvex, or a URI")
        ->capture_default_str();
    cmd->add_option("--predicate", f.predicate, "The predicate file (JSON; any content for --type custom)")->required();
  }
  f.image.add(cmd, "text");
  cmd->add_option("IMAGE", f.ref, "registry/repo[:tag|@digest], or oci:PATH[:tag]")->required();
}

cosign::SignOptions sign_options(const SignFlags& f, const SigningSession& session,
                                 std::map<std::string, std::string> annotations) {
  cosign::SignOptions o;
  o.layout = f.new_bundle_format ? cosign::Layout::kBundle : cosign::Layout::kClassic;
  o.annotations = std::move(annotations);
  o.recursive = f.recursive;
  o.rekor_url = session.rekor_url;
  o.timestamp_url = session.timestamp_url;
  o.store = f.image.store();
  o.log_deadline = f.image.timeout.deadline();
  return o;
}

int report_signed(const SignFlags& f, const std::vector<cosign::SignedManifest>& done, const std::string& warning) {
  if (f.image.output == "json") {
    bj::array items;
    for (const auto& s : done) {
      bj::object o{{"subject", s.subject.str()},
                   {"layout", std::string(cosign::layout_name(s.layout))},
                   {"storedAt", s.stored_at}};
      if (s.log_index) o["logIndex"] = *s.log_index;
      items.push_back(std::move(o));
    }
    bj::object out{{"signed", std::move(items)}};
    if (!warning.empty()) out["warning"] = warning;
    print_json(out);
  } else {
    for (const auto& s : done) {
      if (s.log_index) fmt::print(stderr, "tlog entry created with index: {}\n", *s.log_index);
      fmt::print(stderr, "Pushed {} for {} to: {}\n", s.layout == cosign::Layout::kBundle ? "bundle" : "signature",
                 s.subject.str(), s.stored_at);
    }
  }
  return kExitOk;
}

int run_sign(const SignFlags& f, bool attest) {
  auto annotations = parse_annotations(f.annotations);
  if (!annotations.ok()) return report(annotations.error());
  auto ref = oci::parse_image_ref(f.ref);
  if (!ref.ok()) return report(ref.error());
  auto session = open_signing_session(f.signing, f.image.timeout, f.image.output == "json");
  if (!session.ok()) return report(session.error());
  const sigstore::Signer& signer = *session->signer;
  cosign::SignOptions options = sign_options(f, *session, *annotations);
  auto repository = signature_repository();
  if (!repository.ok()) return report(repository.error());
  options.repository = *repository;
  const bool progress = stderr_is_terminal() && f.image.output != "json";
  if (progress) {
    fmt::print(stderr, "Signing {} ...\n", ref->str());
    options.on_signed = [](const cosign::SignedManifest& s, size_t done, size_t total) {
      fmt::print(stderr, "[{}/{}] {}\n", done, total, s.subject.str());
    };
  }
  std::string warning;
  Result<std::vector<cosign::SignedManifest>> done = std::vector<cosign::SignedManifest>{};
  if (!attest) {
    done = cosign::sign_image(*ref, signer, options, &warning);
  } else {
    auto type = intoto::predicate_type_for(f.type);
    if (!type.ok()) return report(type.error());
    auto text = read_file(f.predicate, 64 << 20);
    if (!text.ok()) return report(text.error());
    bj::value predicate;
    if (*type == intoto::kCosignCustomPredicate) {
      predicate = intoto::custom_predicate(*text, format_rfc3339(now_unix()));
    } else {
      auto parsed = json::parse(*text);
      if (!parsed.ok()) return report(std::move(parsed).error().context(f.predicate));
      predicate = std::move(parsed).value();
    }
    done = cosign::attest_image(*ref, signer, *type, predicate, options, &warning);
  }
  if (!warning.empty() && f.image.output != "json") fmt::print(stderr, "WARNING: {}\n", warning);
  if (!done.ok()) return report(done.error());
  return report_signed(f, *done, warning);
}

// ---- verify / verify-attestation ----

struct VerifyFlags {
  ImageFlags image;
  CosignVerifyFlags verify;
  std::vector<std::string> annotations;
  std::string type;  // verify-attestation
  std::string ref;
};

void add_verify_flags(CLI::App* cmd, VerifyFlags& f, bool attest) {
  f.verify.add(cmd, "trusted_root.json (default: $SIGSTORE_ROOT_FILE, else Sigstore's over TUF: vouch initialize)");
  if (!attest)
    cmd->add_option("-a,--annotations", f.annotations, "key=value the signed payload must carry (repeatable)")
        ->allow_extra_args(false);
  else
    cmd->add_option("--type", f.type, "Predicate type (cosign --type name or URI); default: any");
  f.image.add(cmd, "json");
  cmd->add_option("IMAGE", f.ref, "registry/repo[:tag|@digest], or oci:PATH[:tag]")->required();
}

Result<cosign::VerifyOptions> verify_options(const VerifyFlags& f) {
  VOUCH_ASSIGN_OR_RETURN(cosign::VerifyOptions o,
                         cosign_verify_options(f.verify, f.image.store(), f.image.timeout.deadline()));
  VOUCH_ASSIGN_OR_RETURN(o.annotations, parse_annotations(f.annotations));
  return o;
}

bj::object failure_json(const cosign::VerifyResult& r, const std::string& ref) {
  bj::array rejected;
  for (const auto& c : r.rejected) rejected.push_back(bj::object{{"source", c.source}, {"reason", c.reason}});
  return bj::object{{"verified", false},
                    {"image", ref},
                    {"digest", r.digest.str()},
                    {"error", r.rejected.empty() ? "no signatures found" : "no signature verified"},
                    {"rejected", std::move(rejected)}};
}

// cosign verify's exit codes (cmd/cosign/errors): an image without signatures, a tag that
// does not exist, and signatures of which none verifies. verify-attestation keeps 1, as cosign.
constexpr int kExitNoSignature = 10;
constexpr int kExitNoSuchTag = 11;
constexpr int kExitNoMatchingSignature = 12;

int run_verify(const VerifyFlags& f, bool attest) {
  auto options = verify_options(f);
  if (!options.ok()) return report(options.error());
  auto ref = oci::parse_image_ref(f.ref);
  if (!ref.ok()) return report(ref.error());
  auto result = attest ? cosign::verify_image_attestations(*ref, f.type, *options)
                       : cosign::verify_image_signatures(*ref, *options);
  if (!result.ok()) {
    if (f.image.output == "json") print_json(bj::object{{"verified", false}, {"error", result.error().message}});
    int code = report(result.error());
    return !attest && result.error().code == ErrorCode::kNotFound ? kExitNoSuchTag : code;
  }
  const bool json_out = f.image.output == "json";
  if (!result->ok()) {
    if (json_out) print_json(failure_json(*result, ref->str()));
    fmt::print(stderr, "vouch: {}@{}: no valid {}: {}\n", cosign::location_name(result->image), result->digest.str(),
               attest ? "attestations" : "signatures", printable_line(result->failure_summary()));
    if (attest) return kExitFailed;
    return result->rejected.empty() ? kExitNoSignature : kExitNoMatchingSignature;
  }
  fmt::print(stderr, "\nVerification for {} --\nThe following checks were performed on each of these {}:\n",
             ref->str(), attest ? "attestations" : "signatures");
  if (!attest) fmt::print(stderr, "  - The cosign claims were validated\n");
  if (!options->ignore_tlog) fmt::print(stderr, "  - Existence of the claims in the transparency log was verified offline\n");
  if (!options->keys.empty())
    fmt::print(stderr, "  - The signatures were verified against the specified public key\n");
  else
    fmt::print(stderr, "  - The code-signing certificate was verified using trusted certificate authority certificates\n");
  if (json_out && attest) {
    // As cosign verify-attestation: each verified DSSE envelope, one JSON document a line.
    for (const auto& v : result->verified) std::cout << v.envelope << "\n";
  } else if (json_out) {
    // As cosign verify: the verified payloads, one JSON array on one line.
    bj::array out;
    for (const auto& v : result->verified) out.push_back(v.json);
    std::cout << json::serialize(out) << "\n";
  } else {
    for (const auto& v : result->verified) {
      std::string who = v.signer_identity ? fmt::format(" signed by {} ({})", *v.signer_identity, v.signer_issuer.value_or(""))
                                          : std::string();
      fmt::print("{} {} {}{}\n", cosign::layout_name(v.layout),
                 v.predicate_type.empty() ? std::string(cosign::kSimpleSigningType) : v.predicate_type, v.source, who);
    }
  }
  return kExitOk;
}

}  // namespace

void register_cosign_commands(CLI::App& app, int& exit_code) {
  auto sf = std::make_shared<SignFlags>();
  auto* sign = app.add_subcommand(
      "sign",
      "Sign an image in a registry (or an OCI layout) as cosign 3 does: with --key, or keyless (a ten-minute\n"
      "certificate for your OIDC identity from the CA of the signing config, logged and timestamped there).\n"
      "Default: a Sigstore bundle (DSSE statement, predicate https://sigstore.dev/cosign/sign/v1) attached as\n"
      "an OCI 1.1 referrer (the sha256-<hex> referrers tag where the registry has no referrers API);\n"
      "--new-bundle-format=false: a simple-signing payload appended to sha256-<hex>.sig.\n"
      "A tag is resolved to its digest (with a warning). Exit 0 signed, 2 bad input or registry error.");
  add_sign_flags(sign, *sf, false);
  sign->callback([sf, &exit_code] { exit_code = run_sign(*sf, false); });

  auto af = std::make_shared<SignFlags>();
  auto* attest = app.add_subcommand(
      "attest",
      "Attest an image: an in-toto Statement v1 over its digest with the given predicate, in a DSSE envelope\n"
      "signed with --key or keyless; stored as a bundle referrer (default) or in sha256-<hex>.att\n"
      "(--new-bundle-format=false). --type custom wraps the file as {\"Data\":…,\"Timestamp\":…}.");
  add_sign_flags(attest, *af, true);
  attest->callback([af, &exit_code] { exit_code = run_sign(*af, true); });

  auto vf = std::make_shared<VerifyFlags>();
  auto* verify = app.add_subcommand(
      "verify",
      "Verify the signatures on an image, in both of cosign's layouts (sha256-<hex>.sig and Sigstore bundle\n"
      "referrers, including the referrers tag fallback): each signature over its payload, the payload's\n"
      "digest against the image, required annotations (-a), the key or the certificate identity, and the\n"
      "transparency log entry unless --insecure-ignore-tlog. Prints the verified payloads as JSON (as cosign);\n"
      "otherwise says why each candidate was rejected. Exit codes as cosign's: 0 verified, 10 no signature\n"
      "found, 11 no such tag, 12 signatures found but none verified; 2 bad input.");
  add_verify_flags(verify, *vf, false);
  verify->callback([vf, &exit_code] { exit_code = run_verify(*vf, false); });

  auto vaf = std::make_shared<VerifyFlags>();
  auto* verify_att = app.add_subcommand(
      "verify-attestation",
      "Verify the attestations on an image (sha256-<hex>.att and Sigstore bundle referrers) whose statement\n"
      "has the given predicate type and the image's digest as a subject. Prints each verified DSSE envelope\n"
      "as one JSON line (as cosign). Exit 0 verified, 1 nothing verified, 2 bad input.");
  add_verify_flags(verify_att, *vaf, true);
  verify_att->callback([vaf, &exit_code] { exit_code = run_verify(*vaf, true); });
}

}  // namespace vouch::cli
