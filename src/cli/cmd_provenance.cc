// verify-provenance and provenance generate: SLSA provenance checked as slsa-verifier checks it,
// and made from the CI environment (optionally signed and attached to an image in one step).
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/signing.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/cosign/sign.h"
#include "vouch/crypto/digest.h"
#include "vouch/intoto/predicate.h"
#include "vouch/oci/reference.h"
#include "vouch/slsa/buildkit.h"
#include "vouch/slsa/generate.h"
#include "vouch/slsa/verify.h"

extern char** environ;

namespace vouch::cli {
namespace {

namespace bj = boost::json;

constexpr size_t kMaxProvenanceFile = 16 << 20;
constexpr size_t kMaxArtifactFile = size_t{4} << 30;

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
  oci::StoreOptions store() const {
    oci::StoreOptions o;
    o.allow_insecure = allow_insecure;
    o.username = username;
    o.password = password;
    o.timeout = timeout.duration();
    return o;
  }
};

// ---- verify-provenance ----

struct VerifyProvenanceFlags {
  std::string image;
  std::string artifact, provenance_path;
  std::string source_uri, source_branch, source_tag, source_versioned_tag, builder_id;
  std::vector<std::string> workflow_inputs;
  std::string issuer;
  bool print_provenance = false;
  bool buildkit = false;
  std::string platform;
  TrustedRootFlags trust;
  RegistryFlags registry;
};

Result<slsa::ProvenanceOptions> provenance_options(const VerifyProvenanceFlags& f) {
  slsa::ProvenanceOptions o;
  o.source_uri = f.source_uri;
  auto set = [](const std::string& v) { return v.empty() ? std::optional<std::string>() : std::optional<std::string>(v); };
  o.branch = set(f.source_branch);
  o.tag = set(f.source_tag);
  o.versioned_tag = set(f.source_versioned_tag);
  o.builder_id = set(f.builder_id);
  if (!f.issuer.empty()) o.issuer = f.issuer;
  for (const auto& kv : f.workflow_inputs) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return invalid_input(fmt::format("--build-workflow-input '{}': want key=value", kv));
    o.workflow_inputs[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (o.versioned_tag && !slsa::is_semver(*o.versioned_tag))
    return invalid_input(fmt::format("--source-versioned-tag '{}': not a semantic version (vX[.Y[.Z]])", *o.versioned_tag));
  return o;
}

// --buildkit: the unsigned provenance BuildKit keeps in the image index. Only the flags whose
// claims BuildKit records apply; the others are refused rather than left unchecked.
int run_verify_buildkit_provenance(const VerifyProvenanceFlags& f) {
  const std::pair<bool, std::string_view> inapplicable[] = {
      {!f.artifact.empty() || !f.provenance_path.empty(), "--artifact/--provenance-path (BuildKit provenance is about images)"},
      {!f.source_branch.empty(), "--source-branch (BuildKit records no branch)"},
      {!f.source_tag.empty(), "--source-tag (BuildKit records no tag)"},
      {!f.source_versioned_tag.empty(), "--source-versioned-tag (BuildKit records no tag)"},
      {!f.workflow_inputs.empty(), "--build-workflow-input (BuildKit records no workflow inputs)"},
      {!f.issuer.empty(), "--certificate-oidc-issuer (BuildKit provenance is not signed)"},
      {!f.trust.paths.empty(), "--trusted-root (BuildKit provenance is not signed)"},
  };
  for (const auto& [given, what] : inapplicable)
    if (given) return report(invalid_input(fmt::format("--buildkit does not take {}", what)));
  if (f.image.empty()) return report(invalid_input("--buildkit needs IMAGE@DIGEST, the digest of the image index"));
  auto ref = oci::parse_image_ref(f.image);
  if (!ref.ok()) return report(ref.error());
  const bool has_digest = ref->transport == oci::Transport::kRegistry ? ref->reference.digest.has_value() : ref->digest.has_value();
  if (!has_digest)
    return report(invalid_input(fmt::format("{}: the image is mutable: name it by digest (IMAGE@sha256:...), not by tag", f.image)));
  slsa::BuildKitCheckOptions options;
  options.source_uri = f.source_uri;
  if (!f.builder_id.empty()) options.builder_id = f.builder_id;
  if (!f.platform.empty()) {
    auto platform = oci::parse_platform(f.platform);
    if (!platform.ok()) return report(platform.error());
    options.platform = *platform;
  }
  auto verified = slsa::verify_buildkit_provenance(*ref, options, f.registry.store());
  if (!verified.ok()) {
    const Error& e = verified.error();
    if (e.code != ErrorCode::kVerification) return report(e);
    fmt::print(stderr, "FAILED: SLSA verification failed (unsigned BuildKit provenance): {}\n", printable_line(e.message));
    return kExitFailed;
  }
  fmt::print(stderr, "WARNING: BuildKit provenance is unsigned: anyone who can push to the repository can write it; "
                     "a pass says what it claims, not who made it\n");
  for (const auto& v : *verified) {
    fmt::print(stderr, "Checked unsigned provenance of {} image {}: builder \"{}\", source {} at commit {}\n", v.platform,
               v.image.str(), v.builder_id, v.source, v.commit.empty() ? "(none recorded)" : v.commit);
    if (f.print_provenance) std::cout << v.statement << "\n";
  }
  fmt::print(stderr, "PASSED: the unsigned BuildKit provenance of {} claims what was asked\n", f.image);
  return kExitOk;
}

int run_verify_provenance(const VerifyProvenanceFlags& f) {
  if (f.buildkit) return run_verify_buildkit_provenance(f);
  if (!f.platform.empty()) return report(invalid_input("--platform goes with --buildkit"));
  auto options = provenance_options(f);
  if (!options.ok()) return report(options.error());
  const bool artifact_mode = !f.artifact.empty() || !f.provenance_path.empty();
  if (artifact_mode == !f.image.empty())
    return report(invalid_input("give IMAGE@DIGEST, or --artifact FILE with --provenance-path F"));
  if (artifact_mode && (f.artifact.empty() || f.provenance_path.empty()))
    return report(invalid_input("--artifact and --provenance-path go together"));
  std::optional<oci::ImageRef> ref;
  if (!artifact_mode) {
    auto parsed = oci::parse_image_ref(f.image);
    if (!parsed.ok()) return report(parsed.error());
    const bool has_digest = parsed->transport == oci::Transport::kRegistry ? parsed->reference.digest.has_value()
                                                                           : parsed->digest.has_value();
    if (!has_digest)
      return report(invalid_input(fmt::format("{}: the image is mutable: name it by digest (IMAGE@sha256:...), not by tag",
                                              f.image)));
    ref = *parsed;
  }
  auto trusted = f.trust.load_or_tuf(true, f.registry.timeout.deadline());
  if (!trusted.ok()) return report(trusted.error());

  Result<slsa::VerifiedProvenance> verified = invalid_input("nothing verified");
  std::string what;
  if (artifact_mode) {
    auto data = read_file(f.artifact, kMaxArtifactFile);
    if (!data.ok()) return report(data.error());
    options->expected_digest = hex_encode(crypto::sha256(*data));
    auto provenance = read_file(f.provenance_path, kMaxProvenanceFile);
    if (!provenance.ok()) return report(provenance.error());
    verified = slsa::verify_artifact_provenance(*provenance, *options, **trusted);
    what = fmt::format("artifact {}", f.artifact);
  } else {
    verified = slsa::verify_image_provenance(*ref, *options, **trusted, f.registry.store());
    what = fmt::format("image {}", f.image);
  }
  if (!verified.ok()) {
    const Error& e = verified.error();
    if (e.code != ErrorCode::kVerification) return report(e);
    fmt::print(stderr, "FAILED: SLSA verification failed: {}\n", printable_line(e.message));
    return kExitFailed;
  }
  fmt::print(stderr, "Verified build using builder \"{}\" at commit {}\n", verified->builder_id, verified->commit);
  if (f.print_provenance) std::cout << verified->statement << "\n";
  fmt::print(stderr, "Verifying {}: PASSED\n\nPASSED: SLSA verification passed\n", what);
  return kExitOk;
}

// ---- provenance generate ----

struct GenerateFlags {
  std::vector<std::string> artifacts;
  std::string image;  // subject: IMAGE@DIGEST
  bool statement = false;
  std::string output;
  std::string builder_id, source_uri, source_digest, build_type;
  // --attest IMAGE: sign the predicate and attach it.
  std::string attest;
  bool new_bundle_format = true;
  SigningFlags signing;
  RegistryFlags registry;
};

std::map<std::string, std::string> environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(kv.substr(0, eq));
    if (key.starts_with("GITHUB_") || key.starts_with("RUNNER_") || key.starts_with("CI_") || key == "GITLAB_CI" ||
        key == "CI")
      env[key] = std::string(kv.substr(eq + 1));
  }
  return env;
}

Result<std::vector<intoto::Subject>> subjects(const GenerateFlags& f) {
  std::vector<intoto::Subject> out;
  for (const auto& path : f.artifacts) {
    VOUCH_ASSIGN_OR_RETURN(std::string data, read_file(path, kMaxArtifactFile));
    intoto::Subject s;
    s.name = std::filesystem::path(path).filename().string();
    s.digest["sha256"] = hex_encode(crypto::sha256(data));
    out.push_back(std::move(s));
  }
  if (!f.image.empty()) {
    VOUCH_ASSIGN_OR_RETURN(oci::ImageRef ref, oci::parse_image_ref(f.image));
    std::optional<oci::Digest> digest = ref.transport == oci::Transport::kRegistry ? ref.reference.digest : ref.digest;
    if (!digest) return invalid_input(fmt::format("--image {}: name the image by digest (IMAGE@sha256:...)", f.image));
    intoto::Subject s;
    s.name = ref.transport == oci::Transport::kRegistry ? ref.reference.name() : ref.path;
    s.digest[digest->algorithm()] = digest->hex();
    out.push_back(std::move(s));
  }
  return out;
}

Status run_generate(const GenerateFlags& f) {
  slsa::GenerateInputs in;
  in.env = environment();
  in.builder_id = f.builder_id;
  in.source_uri = f.source_uri;
  in.source_digest = f.source_digest;
  in.build_type = f.build_type;
  if (!f.statement && (!f.artifacts.empty() || !f.image.empty()))
    return invalid_input("ARTIFACT and --image name the statement's subjects: give --statement with them");
  if (auto it = in.env.find("GITHUB_EVENT_PATH"); it != in.env.end() && !it->second.empty()) {
    auto text = read_file(it->second, 16 << 20);
    if (!text.ok()) return std::move(text).error().context("GITHUB_EVENT_PATH");
    auto event = json::parse(*text);
    if (!event.ok()) return std::move(event).error().context(fmt::format("GITHUB_EVENT_PATH {}", it->second));
    in.github_event = std::move(event).value();
  }
  VOUCH_ASSIGN_OR_RETURN(bj::object predicate, slsa::generate_predicate(in));

  if (!f.attest.empty()) {
    VOUCH_ASSIGN_OR_RETURN(oci::ImageRef ref, oci::parse_image_ref(f.attest));
    VOUCH_ASSIGN_OR_RETURN(SigningSession session, open_signing_session(f.signing, f.registry.timeout, false));
    cosign::SignOptions options;
    options.layout = f.new_bundle_format ? cosign::Layout::kBundle : cosign::Layout::kClassic;
    options.rekor_url = session.rekor_url;
    options.timestamp_url = session.timestamp_url;
    options.store = f.registry.store();
    options.log_deadline = f.registry.timeout.deadline();
    VOUCH_ASSIGN_OR_RETURN(options.repository, signature_repository());
    std::string warning;
    VOUCH_ASSIGN_OR_RETURN(auto done, cosign::attest_image(ref, *session.signer, std::string(intoto::kSlsaProvenanceV1),
                                                           predicate, options, &warning));
    if (!warning.empty()) fmt::print(stderr, "WARNING: {}\n", warning);
    for (const auto& s : done) {
      if (s.log_index) fmt::print(stderr, "tlog entry created with index: {}\n", *s.log_index);
      fmt::print(stderr, "Pushed provenance for {} to: {}\n", s.subject.str(), s.stored_at);
    }
  }

  std::string text;
  if (f.statement) {
    VOUCH_ASSIGN_OR_RETURN(auto subs, subjects(f));
    if (subs.empty()) return invalid_input("--statement needs subjects: give ARTIFACT files or --image IMAGE@DIGEST");
    text = slsa::provenance_statement(subs, predicate);
  } else {
    text = json::serialize(predicate);
  }
  if (f.output.empty()) {
    if (f.attest.empty()) std::cout << text << "\n";
    return ok_status();
  }
  return write_file_atomic(f.output, text + "\n");
}

}  // namespace

void register_provenance_commands(CLI::App& app, int& exit_code) {
  auto vf = std::make_shared<VerifyProvenanceFlags>();
  auto* verify = app.add_subcommand(
      "verify-provenance",
      "Verify SLSA provenance as slsa-verifier does: of an image (IMAGE@DIGEST; its attestations in either of\n"
      "cosign's layouts) or of an artifact (--artifact FILE --provenance-path BUNDLE). Checks, in order: the\n"
      "attestation verifies against the trusted root; the certificate's issuer is GitHub Actions; the builder\n"
      "workflow is trusted (or --builder-id) at a vX.Y.Z tag; the certificate's repository is --source-uri; the\n"
      "payload type; builder.id; trigger and first material against the source; the subject digest; branch,\n"
      "tag, versioned tag and workflow inputs. Exit 0 passed, 1 a check failed (named), 2 bad input.");
  verify->add_option("IMAGE", vf->image, "registry/repo@sha256:... or oci:PATH@sha256:... (a tag is refused)");
  verify->add_option("--artifact", vf->artifact, "The artifact the provenance describes");
  verify->add_option("--provenance-path", vf->provenance_path, "The provenance: a Sigstore bundle (.intoto.jsonl, .sigstore.json)");
  verify->add_option("--source-uri", vf->source_uri, "Expected source repository: github.com/ORG/REPO")->required();
  verify->add_option("--source-branch", vf->source_branch, "Expected branch the build ran on");
  verify->add_option("--source-tag", vf->source_tag, "Expected tag the build ran on (exact)");
  verify->add_option("--source-versioned-tag", vf->source_versioned_tag,
                     "Expected semantic version of the tag: v1 matches v1.x.y, v1.2 matches v1.2.x");
  verify->add_option("--builder-id", vf->builder_id, "Expected builder workflow (https://github.com/ORG/REPO/PATH[@REF])");
  verify->add_option("--build-workflow-input", vf->workflow_inputs, "key=value the workflow_dispatch inputs must hold (repeatable)")
      ->allow_extra_args(false);
  verify->add_flag("--print-provenance", vf->print_provenance, "Print the verified in-toto statement on stdout");
  verify->add_flag("--buildkit", vf->buildkit,
                   "Check the unsigned provenance BuildKit keeps in the image index (docker buildx --provenance) instead\n"
                   "of signed attestations: IMAGE@DIGEST names the index; every image in it (or --platform's) must have\n"
                   "provenance whose subject is that image, whose repository is --source-uri and (with --builder-id) whose\n"
                   "builder.id is the one given. Nothing vouches for who wrote it, and the result says so");
  verify->add_option("--platform", vf->platform, "With --buildkit: only this platform's image (os/arch[/variant])");
  verify->add_option("--certificate-oidc-issuer", vf->issuer,
                     "The OIDC issuer the certificate must name (default: GitHub Actions'); for private issuers that "
                     "mint GitHub-Actions-shaped tokens");
  vf->trust.add(verify, "trusted_root.json (default: $SIGSTORE_ROOT_FILE, else Sigstore's over TUF)");
  vf->registry.add(verify);
  verify->callback([vf, &exit_code] { exit_code = run_verify_provenance(*vf); });

  auto* provenance = app.add_subcommand("provenance", "SLSA provenance: generate");
  provenance->require_subcommand(1);
  auto gf = std::make_shared<GenerateFlags>();
  auto* generate = provenance->add_subcommand(
      "generate",
      "Generate a SLSA provenance v1 predicate (or, with --statement, the in-toto statement) from the CI\n"
      "environment: GitHub Actions (GITHUB_ACTIONS=true: the GitHub Actions workflow build type), GitLab CI\n"
      "(GITLAB_CI=true), or --builder-id/--source-uri/--source-digest/--build-type. --attest IMAGE signs it\n"
      "(--key, or keyless as vouch attest) and attaches it to the image. Exit 0 done, 2 bad input.");
  generate->add_option("ARTIFACT", gf->artifacts, "Artifact files to name as subjects (with --statement)");
  generate->add_option("--image", gf->image, "An image to name as subject (IMAGE@DIGEST; with --statement)");
  generate->add_flag("--statement", gf->statement, "Write the whole in-toto statement, not only the predicate");
  generate->add_option("-o,--output", gf->output, "Write to this file instead of stdout");
  generate->add_option("--builder-id", gf->builder_id, "runDetails.builder.id (default: from the environment)");
  generate->add_option("--source-uri", gf->source_uri, "The source, as resolvedDependencies[0].uri (git+https://...@REF)");
  generate->add_option("--source-digest", gf->source_digest, "The source's commit (HEX, or ALG:HEX)");
  generate->add_option("--build-type", gf->build_type, "buildDefinition.buildType");
  generate->add_option("--attest", gf->attest, "Sign the predicate and attach it to this image");
  generate->add_flag("--new-bundle-format{true}", gf->new_bundle_format,
                     "With --attest: a Sigstore bundle referrer (default); =false: the classic sha256-<hex>.att tag")
      ->capture_default_str();
  gf->signing.add(generate);
  gf->registry.add(generate);
  on_run(generate, exit_code, [gf] { return run_generate(*gf); });
}

}  // namespace vouch::cli
