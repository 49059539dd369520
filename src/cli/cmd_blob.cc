// sign-blob, attest-blob, verify-blob: Sigstore bundles for files, as cosign's commands of the same names.
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/signing.h"
#include "vouch/base/json.h"
#include "vouch/base/file.h"
#include "vouch/crypto/cosign_key.h"
#include "vouch/intoto/predicate.h"
#include "vouch/intoto/statement.h"
#include "vouch/sigstore/keyless.h"
#include "vouch/sigstore/sign.h"
#include "vouch/sigstore/verifier.h"
#include "vouch/tlog/client.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;

constexpr size_t kMaxArtifactBytes = 2ull << 30;

struct SignBlobOptions {
  SigningFlags signing;
  std::string bundle;
  std::string file;
  std::string output = "text";
  TimeoutFlag timeout;
  // attest-blob
  std::string type = "custom";
  std::string predicate;
};

// Logs the bundle's signature and timestamps it, as the session says.
Status log_and_timestamp(const SigningSession& session, const SignBlobOptions& opts, sigstore::Bundle& bundle) {
  if (!session.timestamp_url.empty()) {
    auto stamp = sigstore::request_timestamp(session.timestamp_url, bundle.signature(), opts.timeout.deadline());
    if (!stamp.ok()) return std::move(stamp).error().context("timestamp authority");
    bundle.material.rfc3161_timestamps.push_back(std::move(*stamp));
  }
  if (session.rekor_url.empty()) return ok_status();
  const auto& material = session.signer->material();
  VOUCH_ASSIGN_OR_RETURN(std::string proposal, bundle.is_dsse() ? sigstore::dsse_proposal(bundle, material)
                                                                 : sigstore::hashedrekord_proposal(bundle, material));
  tlog::RekorClient client(session.rekor_url, tlog::default_rekor_client_options(opts.timeout.deadline()));
  auto logged = client.create_entry(proposal);
  if (!logged.ok()) return std::move(logged).error().context("transparency log upload");
  VOUCH_ASSIGN_OR_RETURN(sigstore::TlogEntry entry, sigstore::tlog_entry_from_rekor(*logged));
  if (opts.output != "json") fmt::print(stderr, "tlog entry created with index: {}\n", entry.log_index);
  bundle.material.tlog_entries.push_back(std::move(entry));
  return ok_status();
}

// An in-toto statement over the file (its name and SHA-256) with the predicate of --predicate.
Result<std::string> blob_statement(const SignBlobOptions& opts, ByteView artifact) {
  VOUCH_ASSIGN_OR_RETURN(std::string type, intoto::predicate_type_for(opts.type));
  VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(opts.predicate, 64 << 20));
  intoto::Statement st;
  intoto::Subject subject;
  subject.name = std::filesystem::path(opts.file).filename().string();
  subject.digest["sha256"] = hex_encode(crypto::sha256(artifact));
  st.subjects.push_back(std::move(subject));
  st.predicate_type = type;
  if (type == intoto::kCosignCustomPredicate) {
    st.predicate = intoto::custom_predicate(text, format_rfc3339(now_unix()));
  } else {
    auto parsed = json::parse(text);
    if (!parsed.ok()) return std::move(parsed).error().context(opts.predicate);
    st.predicate = std::move(*parsed);
  }
  return intoto::serialize_statement(st);
}

Status sign_blob(const SignBlobOptions& opts, bool attest) {
  VOUCH_ASSIGN_OR_RETURN(std::string artifact, read_file(opts.file, kMaxArtifactBytes));
  std::string statement;
  if (attest) {
    VOUCH_ASSIGN_OR_RETURN(statement, blob_statement(opts, as_bytes(artifact)));
  }
  VOUCH_ASSIGN_OR_RETURN(SigningSession session, open_signing_session(opts.signing, opts.timeout, opts.output == "json"));
  sigstore::Bundle bundle;
  if (attest) {
    bundle.media_type = std::string(sigstore::kBundleMediaTypeV03);
    bundle.material = sigstore::bundle_material(session.signer->material());
    VOUCH_ASSIGN_OR_RETURN(bundle.content, sigstore::sign_dsse(*session.signer, intoto::kInTotoPayloadType, as_bytes(statement)));
  } else {
    VOUCH_ASSIGN_OR_RETURN(bundle, sigstore::sign_blob(*session.signer, as_bytes(artifact)));
  }
  VOUCH_RETURN_IF_ERROR(log_and_timestamp(session, opts, bundle));
  VOUCH_RETURN_IF_ERROR(write_file_atomic(opts.bundle, sigstore::serialize_bundle(bundle)));
  if (opts.output == "json") {
    bj::object out{{"bundle", opts.bundle},
                   {"artifact", opts.file},
                   {"sha256", hex_encode(crypto::sha256(as_bytes(artifact)))},
                   {"keyless", session.keyless}};
    if (session.keyless) out["identity"] = session.identity;
    if (!bundle.material.tlog_entries.empty()) out["logIndex"] = bundle.material.tlog_entries.front().log_index;
    out["timestamped"] = !bundle.material.rfc3161_timestamps.empty();
    print_json(out);
  } else {
    fmt::print(stderr, "Wrote bundle to {}\n", opts.bundle);
  }
  return ok_status();
}

struct VerifyBlobOptions {
  std::string bundle;
  std::string key;
  TrustedRootFlags trust;
  IdentityFlags identity;
  bool ignore_tlog = false;
  bool ignore_sct = false;
  std::string output = "text";
  std::string artifact;
  TimeoutFlag timeout;
};

Result<sigstore::Artifact> load_artifact(const std::string& arg) {
  if (arg.starts_with("sha256:")) return sigstore::Artifact::from_digest_string(arg);
  VOUCH_ASSIGN_OR_RETURN(std::string data, read_file(arg, kMaxArtifactBytes));
  return sigstore::Artifact::from_bytes(std::move(data));
}

Result<sigstore::VerifyPolicy> build_policy(const VerifyBlobOptions& opts) {
  sigstore::VerifyPolicy policy;
  policy.ignore_tlog = opts.ignore_tlog;
  policy.ignore_sct = opts.ignore_sct;
  if (!opts.key.empty()) {
    VOUCH_ASSIGN_OR_RETURN(std::string pem, read_file(opts.key, 1 << 20));
    auto key = crypto::PublicKey::from_pem(pem);
    if (!key.ok()) return std::move(key).error().context(opts.key);
    policy.key = *key;
  }
  VOUCH_ASSIGN_OR_RETURN(policy.identities, opts.identity.identities());
  if (!policy.key && policy.identities.empty())
    return invalid_input("give --key, or --certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp]");
  return policy;
}

Result<std::shared_ptr<const sigstore::TrustedMaterial>> load_trusted_material(const VerifyBlobOptions& opts,
                                                                              bool needed) {
  VOUCH_ASSIGN_OR_RETURN(auto trusted, opts.trust.load_or_tuf(needed, opts.timeout.deadline()));
  if (trusted) return trusted;
  return std::shared_ptr<const sigstore::TrustedMaterial>(std::make_shared<const sigstore::TrustedRoot>());
}

bj::object result_json(const sigstore::VerificationResult& r) {
  bj::object o;
  o["verified"] = true;
  o["mediaType"] = r.media_type;
  if (r.signer) {
    bj::array sans;
    for (const auto& s : r.signer->sans) sans.push_back(bj::value(s));
    o["signer"] = bj::object{{"subjectAlternativeNames", std::move(sans)}, {"issuer", r.signer->issuer}};
  }
  bj::array times;
  for (const auto& t : r.timestamps) times.push_back(bj::object{{"source", t.source}, {"time", format_rfc3339(t.time)}});
  o["timestamps"] = std::move(times);
  bj::array indexes;
  for (int64_t i : r.log_indexes) indexes.push_back(i);
  o["logIndexes"] = std::move(indexes);
  if (r.payload_type) o["payloadType"] = *r.payload_type;
  return o;
}

int verify_blob(const VerifyBlobOptions& opts) {
  auto run = [&]() -> Result<sigstore::VerificationResult> {
    VOUCH_ASSIGN_OR_RETURN(sigstore::VerifyPolicy policy, build_policy(opts));
    VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(opts.bundle, 32 << 20));
    auto bundle = sigstore::parse_bundle(text);
    if (!bundle.ok()) return std::move(bundle).error().context(opts.bundle);
    bool needs_root = !policy.key || !opts.ignore_tlog || !bundle->material.rfc3161_timestamps.empty();
    VOUCH_ASSIGN_OR_RETURN(auto trusted, load_trusted_material(opts, needs_root));
    VOUCH_ASSIGN_OR_RETURN(sigstore::Artifact artifact, load_artifact(opts.artifact));
    return sigstore::verify_bundle(*bundle, artifact, *trusted, policy);
  };
  auto result = run();
  if (!result.ok()) {
    if (opts.output == "json")
      print_json(bj::object{{"verified", false}, {"error", result.error().message}});
    return report(result.error());
  }
  if (opts.output == "json") {
    print_json(result_json(*result));
  } else {
    fmt::print(stderr, "Verified OK\n");
  }
  return kExitOk;
}

}  // namespace

void register_blob_commands(CLI::App& app, int& exit_code) {
  for (bool attest : {false, true}) {
    auto o = std::make_shared<SignBlobOptions>();
    auto* cmd =
        attest ? app.add_subcommand(
                     "attest-blob",
                     "Attest a file: an in-toto Statement v1 over its SHA-256 with the given predicate, in a DSSE\n"
                     "envelope, written as a Sigstore bundle (v0.3), as cosign attest-blob. Signs with --key, or keyless:\n"
                     "a ten-minute certificate for your OIDC identity from the CA the signing config names, the\n"
                     "signature logged and timestamped there. Exit 0 written, 2 bad input or a service's refusal.")
               : app.add_subcommand(
                     "sign-blob",
                     "Sign a file and write a Sigstore bundle (v0.3) holding the signature, as cosign sign-blob.\n"
                     "With --key: that key (its password from $COSIGN_PASSWORD or a prompt), logged with --rekor-url.\n"
                     "Without: keyless, a ten-minute certificate for your OIDC identity (--identity-token,\n"
                     "$SIGSTORE_ID_TOKEN or GitHub Actions' token) from the CA of --signing-config (default:\n"
                     "Sigstore's over TUF), the signature logged and timestamped at the services it names.\n"
                     "Exit 0 written, 2 bad input or a service's refusal.");
    o->signing.add(cmd);
    cmd->add_option("--bundle", o->bundle, "Write the bundle to this file")->required();
    if (attest) {
      cmd->add_option("--type", o->type,
                      "Predicate type: custom, slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, spdxjson, "
                      "cyclonedx, link, vuln, openvex, or a URI")
          ->capture_default_str();
      cmd->add_option("--predicate", o->predicate, "The predicate file (JSON; any content for --type custom)")->required();
    }
    add_output_flag(cmd, o->output);
    o->timeout.add(cmd);
    cmd->add_option("FILE", o->file, attest ? "The file to attest" : "The file to sign")->required();
    on_run(cmd, exit_code, [o, attest] { return sign_blob(*o, attest); });
  }

  auto v = std::make_shared<VerifyBlobOptions>();
  auto* verify = app.add_subcommand(
      "verify-blob",
      "Verify a Sigstore bundle (v0.1-v0.3, message signature or DSSE) over a file or a digest,\n"
      "against a trusted root and the expected signer: a Fulcio certificate identity and OIDC\n"
      "issuer (exact, or RE2 regular expressions), or a public key (--key).\n"
      "Exit 0 verified, 1 verification failed (the message names the failed check), 2 bad input.");
  verify->add_option("--bundle", v->bundle, "Sigstore bundle file")->required();
  verify->add_option("--key", v->key, "Public key file (PEM) the signature must verify with");
  v->identity.add(verify);
  v->trust.add(verify, "trusted_root.json (default: $SIGSTORE_ROOT_FILE, else Sigstore's over TUF: vouch initialize)");
  v->timeout.add(verify);
  verify->add_flag("--insecure-ignore-tlog", v->ignore_tlog, "Do not require or check transparency log entries");
  verify->add_flag("--insecure-ignore-sct", v->ignore_sct, "Do not require an SCT in the certificate");
  add_output_flag(verify, v->output);
  verify->add_option("FILE", v->artifact, "The signed file, or sha256:HEX of it")->required();
  verify->callback([v, &exit_code] { exit_code = verify_blob(*v); });
}

}  // namespace vouch::cli
