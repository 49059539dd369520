// sign-blob, verify-blob: Sigstore bundles for files, as cosign's commands of the same names.
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "vouch/base/file.h"
#include "vouch/crypto/cosign_key.h"
#include "vouch/sigstore/sign.h"
#include "vouch/sigstore/verifier.h"
#include "vouch/tlog/client.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;

constexpr size_t kMaxArtifactBytes = 2ull << 30;

struct SignBlobOptions {
  std::string key;
  std::string bundle;
  std::string file;
  std::string output = "text";
  std::string rekor_url;
  bool tlog_upload = true;
  TimeoutFlag timeout;
};

Status sign_blob(const SignBlobOptions& opts) {
  VOUCH_ASSIGN_OR_RETURN(crypto::PrivateKey key, load_private_key(opts.key));
  const sigstore::KeySigner signer(std::move(key));
  VOUCH_ASSIGN_OR_RETURN(std::string artifact, read_file(opts.file, kMaxArtifactBytes));
  VOUCH_ASSIGN_OR_RETURN(sigstore::Bundle bundle, sigstore::sign_blob(signer, as_bytes(artifact)));
  if (!opts.rekor_url.empty() && opts.tlog_upload) {
    VOUCH_ASSIGN_OR_RETURN(std::string proposal, sigstore::hashedrekord_proposal(bundle, signer.material()));
    tlog::RekorClient client(opts.rekor_url, tlog::default_rekor_client_options(opts.timeout.deadline()));
    auto logged = client.create_entry(proposal);
    if (!logged.ok()) return std::move(logged).error().context("transparency log upload");
    VOUCH_ASSIGN_OR_RETURN(sigstore::TlogEntry entry, sigstore::tlog_entry_from_rekor(*logged));
    if (opts.output != "json") fmt::print(stderr, "tlog entry created with index: {}\n", entry.log_index);
    bundle.material.tlog_entries.push_back(std::move(entry));
  }
  VOUCH_RETURN_IF_ERROR(write_file_atomic(opts.bundle, sigstore::serialize_bundle(bundle)));
  if (opts.output == "json") {
    print_json(bj::object{{"bundle", opts.bundle},
                          {"artifact", opts.file},
                          {"sha256", hex_encode(crypto::sha256(as_bytes(artifact)))}});
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
  auto sign_opts = std::make_shared<SignBlobOptions>();
  auto* sign = app.add_subcommand("sign-blob",
                                  "Sign a file with a key and write a Sigstore bundle (v0.3) holding the signature.\n"
                                  "The key's password comes from $COSIGN_PASSWORD or a prompt.");
  sign->add_option("--key", sign_opts->key, "Private key file (cosign.key)")->required();
  sign->add_option("--bundle", sign_opts->bundle, "Write the bundle to this file")->required();
  add_output_flag(sign, sign_opts->output);
  sign->add_option("--rekor-url", sign_opts->rekor_url,
                   "Upload the signature to the transparency log at this URL and put the entry in the bundle");
  sign->add_flag("--tlog-upload{true}", sign_opts->tlog_upload,
                 "Upload to the log given by --rekor-url (--tlog-upload=false: do not)")
      ->capture_default_str();
  sign_opts->timeout.add(sign);
  sign->add_option("FILE", sign_opts->file, "The file to sign")->required();
  on_run(sign, exit_code, [sign_opts] { return sign_blob(*sign_opts); });

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
