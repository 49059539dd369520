// Sigstore bundle verification throughput, in process, on distinct bundles: the conformance
// suite's four public-good keyless bundles and 508 more signed at set-up by a private stack of
// the same shape (a P-384 Fulcio-like CA, a P-256 CT log, a P-256 Rekor v1 log with signed entry
// timestamps, inclusion proofs and checkpoints, an ephemeral P-256 key and certificate per
// bundle; one in four a DSSE in-toto attestation). Every bundle has its own leaf certificate, and
// the verifiers run without their chain cache (checked: no hit), so nothing remembered about one
// bundle's certificate helps with the next. What is set up once is the trusted material: its
// certificate stores and the log keys' verification contexts.
//   BM_VerifyBundle        one core, JSON parse and verification of the next bundle
//   BM_VerifyParsedBundle  one core, verification of an already parsed bundle
//   BM_VerifyBundleBatch   Verifier::verify_bundles over all 512 bundles on all cores (bundles
//                          per second of wall-clock time, and per second of CPU time: per core)
//   BM_VerifyBundleAgain   one core, parse and verification with the chain cache on, after
//                          every bundle was verified once (an admission webhook's warm case)
//   BM_SignatureVerify     what `openssl speed ecdsap256|ecdsap384` measures, in this process and
//                          next to the figures above: one context, one digest, verified again and
//                          again; the limit is computed from it as from openssl speed
// scripts/bench.sh compares the figures with the limit the signatures set (openssl speed) and
// with sigstore-js on the public-good bundles.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/crypto/certificate_builder.h"
#include "vouch/crypto/sct.h"
#include "vouch/intoto/dsse.h"
#include "vouch/intoto/statement.h"
#include "vouch/sigstore/sign.h"
#include "vouch/sigstore/verifier.h"
#include "vouch/tlog/checkpoint.h"
#include "vouch/tlog/entries.h"
#include "vouch/tlog/entry_timestamp.h"
#include "vouch/tlog/merkle.h"

namespace {

using namespace vouch;
using namespace vouch::sigstore;

constexpr char kIdentity[] =
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/"
    "extremely-dangerous-oidc-beacon.yml@refs/heads/main";
constexpr char kIssuer[] = "https://token.actions.githubusercontent.com";
constexpr size_t kSignedAtSetUp = 508;
constexpr std::string_view kLogHost = "rekor.bench.vouch.test";

struct Case {
  std::string bundle_text;
  Bundle bundle;
  Artifact artifact = Artifact::from_bytes("");
};

struct Corpus {
  std::shared_ptr<const TrustedMaterial> trusted;
  std::vector<Case> cases;
};

[[noreturn]] void fail(std::string_view what, const Error& e) {
  fprintf(stderr, "bench set-up: %.*s: %s\n", static_cast<int>(what.size()), what.data(), e.message.c_str());
  std::exit(2);
}

template <typename T>
T must(Result<T> r, std::string_view what) {
  if (!r.ok()) fail(what, r.error());
  return std::move(r).value();
}

std::filesystem::path testdata() {
  if (const char* env = std::getenv("VOUCH_TESTDATA")) return env;
  return "../shared/testdata";
}

// A key with its certificate, as a keyless signer holds them.
class CertificateSigner final : public Signer {
 public:
  CertificateSigner(crypto::PrivateKey key, crypto::Certificate leaf) : key_(std::move(key)) {
    material_.public_key = key_.public_key();
    material_.certificate_chain = {std::move(leaf)};
  }
  Result<Bytes> sign(ByteView data) const override { return key_.sign(data, crypto::HashAlgorithm::kSha256); }
  crypto::HashAlgorithm hash_algorithm() const override { return crypto::HashAlgorithm::kSha256; }
  const SignerMaterial& material() const override { return material_; }

 private:
  crypto::PrivateKey key_;
  SignerMaterial material_;
};

// A private stack shaped like the public-good instance, and the bundles it signs.
struct PrivateStack {
  crypto::PrivateKey ca_key = must(crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP384), "CA key");
  crypto::PrivateKey ct_key = must(crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256), "CT log key");
  crypto::PrivateKey log_key = must(crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256), "log key");
  UnixSeconds now = now_unix();
  crypto::CaPair ca;

  PrivateStack() {
    auto root_key = must(crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP384), "root key");
    ca = must(crypto::create_ca_pair(root_key, ca_key,
                                     {.root_subject = {{"O", "vouch bench"}, {"CN", "bench root"}},
                                      .intermediate_subject = {{"O", "vouch bench"}, {"CN", "bench intermediate"}},
                                      .not_before = now - 86400,
                                      .not_after = now + 365 * 86400}),
              "CA pair");
  }

  // Its trusted root, through JSON as a user would give it (so the CA chain is checked on load).
  TrustedRoot trusted_root() const {
    TrustedRoot root;
    LogInstance log;
    log.base_url = fmt::format("https://{}", kLogHost);
    log.key = log_key.public_key();
    log.key_details = "PKIX_ECDSA_P256_SHA_256";
    log.log_id = crypto::sha256(log.key.der());
    log.valid_for = {now - 86400, std::nullopt};
    root.tlogs.push_back(log);
    LogInstance ct = log;
    ct.base_url = "https://ctfe.bench.vouch.test";
    ct.key = ct_key.public_key();
    ct.log_id = crypto::sha256(ct.key.der());
    root.ctlogs.push_back(ct);
    CertificateAuthority authority;
    authority.uri = "https://fulcio.bench.vouch.test";
    authority.chain = {ca.intermediate, ca.root};
    authority.valid_for = {now - 86400, std::nullopt};
    root.certificate_authorities.push_back(authority);
    return must(parse_trusted_root(json::serialize(trusted_root_json(root))), "private trusted root");
  }

  // A short-lived code-signing certificate for a new key, with an SCT from the CT log.
  crypto::Certificate leaf_certificate(const crypto::PrivateKey& key) const {
    crypto::CertificateTemplate t;
    t.serial = must(crypto::random_serial_number(), "serial");
    t.not_before = now - 60;
    t.not_after = now + 540;
    t.public_key = key.public_key();
    t.key_usage.digital_signature = true;
    t.code_signing_eku = true;
    t.subject_alt_names.uris = {kIdentity};
    t.fulcio.issuer = kIssuer;
    t.fulcio.github_workflow_trigger = "workflow_dispatch";
    t.fulcio.github_workflow_sha = "c7b3dfb335f051e1c86bda4c716fac97df62ad81";
    t.fulcio.github_workflow_name = "Extremely dangerous OIDC beacon";
    t.fulcio.github_workflow_repository = "sigstore-conformance/extremely-dangerous-public-oidc-beacon";
    t.fulcio.github_workflow_ref = "refs/heads/main";
    t.fulcio.build_signer_uri = kIdentity;
    t.fulcio.runner_environment = "github-hosted";
    t.fulcio.source_repository_uri = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon";
    t.fulcio.source_repository_digest = "c7b3dfb335f051e1c86bda4c716fac97df62ad81";
    t.fulcio.source_repository_ref = "refs/heads/main";
    t.fulcio.build_trigger = "workflow_dispatch";
    t.ct_poison = true;
    auto precert = must(crypto::sign_certificate(t, ca_key, ca.intermediate), "precertificate");
    auto entry = must(crypto::precert_entry(precert, ca.intermediate), "precertificate entry");
    auto sct = must(crypto::sign_sct(ct_key, entry, static_cast<uint64_t>(now - 30) * 1000), "SCT");
    t.ct_poison = false;
    t.sct_list = must(crypto::serialize_sct_list({sct}), "SCT list");
    return must(crypto::sign_certificate(t, ca_key, ca.intermediate), "leaf certificate");
  }

  // Bundles for `count` artifacts, each signed with its own key and logged in one log.
  std::vector<Case> sign(size_t count) const {
    std::vector<Case> cases(count);
    std::vector<std::string> bodies;
    for (size_t i = 0; i < count; ++i) {
      auto key = must(crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256), "signing key");
      CertificateSigner signer(key, leaf_certificate(key));
      std::string artifact = fmt::format("artifact {} of the verification benchmark\n", i);
      std::string proposal;
      if (i % 4 == 3) {
        intoto::Statement st;
        st.subjects.push_back({fmt::format("artifact-{}", i), {{"sha256", hex_encode(crypto::sha256(artifact))}}});
        st.predicate_type = "https://slsa.dev/provenance/v1";
        st.predicate = boost::json::object{{"buildDefinition", boost::json::object{{"buildType", "bench"}}}};
        std::string payload = intoto::serialize_statement(st);
        cases[i].bundle.media_type = std::string(kBundleMediaTypeV03);
        cases[i].bundle.material = bundle_material(signer.material());
        cases[i].bundle.content = must(sign_dsse(signer, intoto::kInTotoPayloadType, as_bytes(payload)), "DSSE");
        proposal = must(dsse_proposal(cases[i].bundle, signer.material()), "dsse proposal");
      } else {
        cases[i].bundle = must(sign_blob(signer, as_bytes(artifact)), "message signature");
        proposal = must(hashedrekord_proposal(cases[i].bundle, signer.material()), "hashedrekord proposal");
      }
      auto entry = must(tlog::canonicalize_proposed_entry(proposal), "log entry");
      TlogEntry e;
      e.log_index = static_cast<int64_t>(i);
      e.kind = entry.kind;
      e.version = entry.api_version;
      e.canonicalized_body = to_bytes(entry.body);
      cases[i].bundle.material.tlog_entries.push_back(std::move(e));
      cases[i].artifact = Artifact::from_bytes(std::move(artifact));
      bodies.push_back(std::move(entry.body));
    }

    // The log: every body a leaf, one signed checkpoint over all of them.
    std::vector<Bytes> leaves;
    for (const auto& b : bodies) leaves.push_back(tlog::hash_leaf(as_bytes(b)));
    const Bytes root_hash = tlog::root_hash(leaves);
    const Bytes log_id = crypto::sha256(log_key.public_key().der());
    tlog::Checkpoint cp{fmt::format("{} - 1193050959916656506", kLogHost), count, root_hash, {}};
    tlog::SignedNote note{tlog::format_checkpoint(cp), {}};
    note.signatures.push_back({std::string(kLogHost), tlog::legacy_key_id(log_key.public_key()),
                               must(log_key.sign(as_bytes(note.text)), "checkpoint signature")});
    const std::string envelope = tlog::format_signed_note(note);
    const UnixSeconds integrated = now - 30;
    for (size_t i = 0; i < count; ++i) {
      TlogEntry& e = cases[i].bundle.material.tlog_entries.front();
      e.log_id = log_id;
      e.integrated_time = integrated;
      e.signed_entry_timestamp =
          must(tlog::sign_entry_timestamp(log_key, e.canonicalized_body, integrated, log_id, e.log_index), "SET");
      e.inclusion_proof = InclusionProof{e.log_index, root_hash, static_cast<int64_t>(count),
                                         must(tlog::inclusion_proof(i, leaves), "inclusion proof"), envelope};
      cases[i].bundle_text = serialize_bundle(cases[i].bundle);
    }
    return cases;
  }
};

VerifyPolicy policy() {
  VerifyPolicy p;
  p.identities.push_back({StringMatcher::exact(kIdentity), StringMatcher::exact(kIssuer)});
  return p;
}

const Corpus& corpus() {
  static const Corpus all = [] {
    Corpus c;
    auto base = testdata() / "sigstore-conformance/bundle-verify";
    auto production = must(parse_trusted_root(must(read_file(testdata() / "sigstore-trust/trusted_root.production.json"),
                                                   "production trusted root")),
                           "production trusted root");
    for (const char* name : {"happy-path-v0.1", "happy-path-v0.2", "happy-path-v0.3", "happy-path-intoto-in-dsse-v3"}) {
      auto dir = base / name;
      Case k;
      k.bundle_text = must(read_file(dir / "bundle.sigstore.json"), name);
      k.bundle = must(parse_bundle(k.bundle_text), name);
      auto art = std::filesystem::exists(dir / "artifact") ? dir / "artifact" : base / "a.txt";
      k.artifact = Artifact::from_bytes(must(read_file(art), name));
      c.cases.push_back(std::move(k));
    }
    PrivateStack stack;
    for (auto& k : stack.sign(kSignedAtSetUp)) c.cases.push_back(std::move(k));
    c.trusted = std::make_shared<TrustedMaterialCollection>(std::vector<std::shared_ptr<const TrustedMaterial>>{
        std::make_shared<TrustedRoot>(std::move(production)), std::make_shared<TrustedRoot>(stack.trusted_root())});
    // Every bundle must verify, or the figures mean nothing.
    Verifier v(c.trusted, {.chain_cache_entries = 0});
    for (size_t i = 0; i < c.cases.size(); ++i) {
      auto r = v.verify_bundle(must(parse_bundle(c.cases[i].bundle_text), "bundle"), c.cases[i].artifact, policy());
      if (!r.ok()) fail(fmt::format("bundle {}", i), r.error());
    }
    return c;
  }();
  return all;
}

// No remembered chain may have helped: each figure is for bundles verified in full.
bool no_cache_hit(benchmark::State& state, const Verifier& v) {
  if (v.chain_cache_stats().hits == 0) return true;
  state.SkipWithError("the chain cache answered during a cold-verification benchmark");
  return false;
}

void BM_SignatureVerify(benchmark::State& state) {
  const bool p384 = state.range(0) == 384;
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", p384 ? "P-384" : "P-256");
  const unsigned char digest[48] = {1, 2, 3, 4, 5, 6, 7, 8};
  const size_t digest_len = p384 ? 48 : 32;
  unsigned char sig[160];
  size_t sig_len = sizeof sig;
  EVP_PKEY_CTX* sign = EVP_PKEY_CTX_new(key, nullptr);
  EVP_PKEY_CTX* verify = EVP_PKEY_CTX_new(key, nullptr);
  if (!key || EVP_PKEY_sign_init(sign) != 1 || EVP_PKEY_sign(sign, sig, &sig_len, digest, digest_len) != 1 ||
      EVP_PKEY_verify_init(verify) != 1) {
    state.SkipWithError("cannot set up the signature");
  } else {
    for (auto _ : state)
      if (EVP_PKEY_verify(verify, sig, sig_len, digest, digest_len) != 1) {
        state.SkipWithError("the signature does not verify");
        break;
      }
    state.SetItemsProcessed(state.iterations());
  }
  EVP_PKEY_CTX_free(sign);
  EVP_PKEY_CTX_free(verify);
  EVP_PKEY_free(key);
}
BENCHMARK(BM_SignatureVerify)->Arg(256)->Arg(384)->Unit(benchmark::kMicrosecond)->MinTime(1.0);

void BM_VerifyBundle(benchmark::State& state) {
  const Corpus& c = corpus();
  const Verifier v(c.trusted, {.chain_cache_entries = 0});
  const VerifyPolicy p = policy();
  size_t i = 0;
  for (auto _ : state) {
    const Case& k = c.cases[i++ % c.cases.size()];
    auto bundle = parse_bundle(k.bundle_text);
    if (!bundle.ok()) {
      state.SkipWithError(bundle.error().message.c_str());
      break;
    }
    auto result = v.verify_bundle(*bundle, k.artifact, p);
    if (!result.ok()) {
      state.SkipWithError(result.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  if (!no_cache_hit(state, v)) return;
  state.SetItemsProcessed(state.iterations());
  state.counters["bundles"] = static_cast<double>(c.cases.size());
}
BENCHMARK(BM_VerifyBundle)->Unit(benchmark::kMicrosecond)->MinTime(2.0);

void BM_VerifyParsedBundle(benchmark::State& state) {
  const Corpus& c = corpus();
  const Verifier v(c.trusted, {.chain_cache_entries = 0});
  const VerifyPolicy p = policy();
  size_t i = 0;
  for (auto _ : state) {
    const Case& k = c.cases[i++ % c.cases.size()];
    auto result = v.verify_bundle(k.bundle, k.artifact, p);
    if (!result.ok()) {
      state.SkipWithError(result.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  if (!no_cache_hit(state, v)) return;
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyParsedBundle)->Unit(benchmark::kMicrosecond)->MinTime(2.0);

void BM_VerifyBundleBatch(benchmark::State& state) {
  const Corpus& c = corpus();
  const Verifier v(c.trusted, {.chain_cache_entries = 0});
  const VerifyPolicy p = policy();
  std::vector<BundleInput> inputs;
  for (const auto& k : c.cases) inputs.push_back({&k.bundle, &k.artifact});
  for (auto _ : state) {
    auto results = v.verify_bundles(inputs, p);
    for (const auto& r : results)
      if (!r.ok()) {
        state.SkipWithError(r.error().message.c_str());
        return;
      }
    benchmark::DoNotOptimize(results);
  }
  if (!no_cache_hit(state, v)) return;
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(inputs.size()));
  state.counters["bundles"] = static_cast<double>(inputs.size());
  state.counters["threads"] = static_cast<double>(std::max(1u, std::thread::hardware_concurrency()));
}
// Bundles per second of wall-clock time on all cores; the CPU time is the whole process's, so
// bundles / CPU time is the rate per core.
BENCHMARK(BM_VerifyBundleBatch)->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime()->MeasureProcessCPUTime();

void BM_VerifyBundleAgain(benchmark::State& state) {
  const Corpus& c = corpus();
  const Verifier v(c.trusted);
  const VerifyPolicy p = policy();
  for (const auto& k : c.cases) benchmark::DoNotOptimize(v.verify_bundle(k.bundle, k.artifact, p));
  size_t i = 0;
  for (auto _ : state) {
    const Case& k = c.cases[i++ % c.cases.size()];
    auto bundle = parse_bundle(k.bundle_text);
    auto result = bundle.ok() ? v.verify_bundle(*bundle, k.artifact, p) : Result<VerificationResult>(bundle.error());
    if (!result.ok()) {
      state.SkipWithError(result.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["cache_hits"] = static_cast<double>(v.chain_cache_stats().hits);
}
BENCHMARK(BM_VerifyBundleAgain)->Unit(benchmark::kMicrosecond)->MinTime(2.0);

void BM_ParseBundle(benchmark::State& state) {
  const Corpus& c = corpus();
  size_t i = 0;
  for (auto _ : state) {
    auto bundle = parse_bundle(c.cases[i++ % c.cases.size()].bundle_text);
    benchmark::DoNotOptimize(bundle);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseBundle)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
