// cosign's formats byte for byte, and signing/verification in both layouts over an in-memory
// registry without the referrers API (the sha256-<hex> tag index, written as cosign 3 writes
// it, with the empty artifact type on its descriptors).
#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "../../lib/memory_registry.h"
#include "vouch/base/json.h"
#include "vouch/cosign/payload.h"
#include "vouch/cosign/sign.h"
#include "vouch/cosign/verify.h"
#include "vouch/crypto/digest.h"
#include "vouch/intoto/dsse.h"
#include "vouch/intoto/predicate.h"

namespace vouch::cosign {
namespace {

namespace bj = boost::json;

using testing::MemoryRegistry;

oci::Reference image_ref() { return *oci::parse_reference("127.0.0.1:5000/demo/app:v1"); }

crypto::PrivateKey new_key() { return *crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256); }

// A classic-layout (.sig) signature of `image` by `key`.
Result<SignedManifest> sign_classic(oci::Store& store, const oci::Manifest& image, const crypto::PrivateKey& key) {
  SignOptions so;
  so.layout = Layout::kClassic;
  return sign_manifest(store, image_ref(), image.descriptor(), sigstore::KeySigner(key), so);
}

VerifyOptions key_options(const crypto::PrivateKey& key) {
  VerifyOptions o;
  o.keys.push_back(key.public_key());
  o.ignore_tlog = true;
  return o;
}

TEST(CosignPayload, SimpleSigningIsByteExactAsCosignWritesIt) {
  auto d = oci::Digest::sha256_from_hex(std::string(64, 'a'));
  EXPECT_EQ(simple_signing_payload("127.0.0.1:5000/demo/app", d, {}),
            R"({"critical":{"identity":{"docker-reference":"127.0.0.1:5000/demo/app"},"image":{"docker-manifest-digest":"sha256:)" +
                std::string(64, 'a') + R"("},"type":"cosign container image signature"},"optional":null})");
  EXPECT_EQ(simple_signing_payload("r", d, {{"z", "1"}, {"a", "<&>"}}),
            R"({"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"sha256:)" +
                std::string(64, 'a') +
                R"("},"type":"cosign container image signature"},"optional":{"a":"\u003c\u0026\u003e","z":"1"}})");
  EXPECT_EQ(go_json_string("a\"b\\\n\x01\xe2\x80\xa8"), R"("a\"b\\\n\u0001\u2028")");
  EXPECT_EQ(cosign_repository_name(*oci::parse_reference("alpine")), "index.docker.io/library/alpine");
  EXPECT_EQ(cosign_repository_name(image_ref()), "127.0.0.1:5000/demo/app");
}

TEST(CosignPayload, SimpleSigningParseNamesWhatIsWrong) {
  auto ok = parse_simple_signing(as_bytes(simple_signing_payload("r", oci::Digest::sha256_from_hex(std::string(64, 'b')),
                                                                  {{"k", "v"}})));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->docker_reference, "r");
  EXPECT_EQ(ok->manifest_digest.hex(), std::string(64, 'b'));
  EXPECT_EQ(ok->optional.at("k").as_string(), "v");
  auto bad = parse_simple_signing(as_bytes(R"({"critical":{"identity":{},"image":{"docker-manifest-digest":"x"}}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("docker-reference"), std::string::npos) << bad.error().message;
  auto bad_digest = parse_simple_signing(as_bytes(
      R"({"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"sha256:zz"},"type":"t"}})"));
  ASSERT_FALSE(bad_digest.ok());
  EXPECT_NE(bad_digest.error().message.find("docker-manifest-digest"), std::string::npos);
  EXPECT_FALSE(parse_simple_signing(as_bytes("[1]")).ok());
  EXPECT_FALSE(parse_simple_signing(as_bytes("{")).ok());
}

TEST(CosignPayload, SignStatementAndLegacyRekorBundle) {
  auto d = oci::Digest::sha256_from_hex(std::string(64, 'c'));
  EXPECT_EQ(sign_statement(d, {{"team", "x"}}),
            R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":")" + std::string(64, 'c') +
                R"("},"annotations":{"team":"x"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}})");
  tlog::RekorLogEntry e;
  e.body = R"({"kind":"hashedrekord"})";
  e.integrated_time = 1700000000;
  e.log_index = 42;
  e.log_id = Bytes{0xab, 0xcd};
  e.signed_entry_timestamp = Bytes{1, 2, 3};
  std::string text = legacy_rekor_bundle(e);
  EXPECT_EQ(text, R"({"SignedEntryTimestamp":"AQID","Payload":{"body":"eyJraW5kIjoiaGFzaGVkcmVrb3JkIn0=",)"
                  R"("integratedTime":1700000000,"logIndex":42,"logID":"abcd"}})");
  auto back = parse_legacy_rekor_bundle(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->body, e.body);
  EXPECT_EQ(back->log_index, 42);
  EXPECT_EQ(back->log_id, e.log_id);
  EXPECT_FALSE(parse_legacy_rekor_bundle(R"({"Payload":{}})").ok());
}

TEST(CosignClassic, SignAppendsAndVerifiesWithEitherKey) {
  MemoryRegistry store;
  auto image = store.add_image("v1", "layer");
  auto k1 = new_key(), k2 = new_key();
  SignOptions so;
  so.layout = Layout::kClassic;
  so.annotations = {{"env", "prod"}};
  auto s1 = sign_manifest(store, image_ref(), image.descriptor(), sigstore::KeySigner(k1), so);
  ASSERT_TRUE(s1.ok()) << s1.error().message;
  EXPECT_EQ(s1->stored_at, "127.0.0.1:5000/demo/app:" + oci::digest_tag(image.digest, ".sig"));
  ASSERT_TRUE(sign_manifest(store, image_ref(), image.descriptor(), sigstore::KeySigner(k2), so).ok());
  // Signing again with the same key and payload does not add a layer (ECDSA is randomized, so
  // it does, unless identical: count only that both keys' layers are present).
  auto sig_manifest = *store.get_tagged(oci::digest_tag(image.digest, ".sig"));
  ASSERT_TRUE(sig_manifest);
  ASSERT_EQ(sig_manifest->layers.size(), 2u);
  const auto& layer = sig_manifest->layers[0];
  EXPECT_EQ(layer.media_type, media_type::kSimpleSigning);
  EXPECT_TRUE(layer.annotations.count(std::string(annotation::kSignature)));
  EXPECT_EQ(sig_manifest->config->media_type, oci::media_type::kOciConfig);
  // The config lists both layers as diff_ids, as go-containerregistry's mutate.Append does.
  std::string config = store.blobs.at(sig_manifest->config->digest.str());
  EXPECT_NE(config.find(sig_manifest->layers[1].digest.str()), std::string::npos);

  for (const auto* k : {&k1, &k2}) {
    auto r = verify_signatures_in(store, image_ref(), image.digest, key_options(*k));
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->verified.size(), 1u) << r->failure_summary();
    EXPECT_EQ(r->verified[0].layout, Layout::kClassic);
    EXPECT_EQ(r->verified[0].annotations.at("env"), "prod");
    EXPECT_EQ(r->verified[0].json.as_object().at("critical").as_object().at("type").as_string(),
              "cosign container image signature");
    EXPECT_EQ(r->rejected.size(), 1u);  // the other key's signature, named
  }
  auto wrong = verify_signatures_in(store, image_ref(), image.digest, key_options(new_key()));
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(wrong->ok());
  ASSERT_EQ(wrong->rejected.size(), 2u);
  EXPECT_NE(wrong->rejected[0].source.find("layer 0"), std::string::npos);
  EXPECT_NE(wrong->failure_summary().find("layer 1"), std::string::npos);

  VerifyOptions need = key_options(k1);
  need.annotations = {{"env", "dev"}};
  auto ann = verify_signatures_in(store, image_ref(), image.digest, need);
  ASSERT_TRUE(ann.ok());
  EXPECT_FALSE(ann->ok());
  EXPECT_NE(ann->failure_summary().find("annotation 'env' is 'prod', want 'dev'"), std::string::npos)
      << ann->failure_summary();
}

TEST(CosignClassic, TamperedPayloadAndMovedSignatureAreRejected) {
  MemoryRegistry store;
  auto image = store.add_image("v1", "layer");
  auto other = store.add_image("v2", "other bytes");
  auto key = new_key();
  ASSERT_TRUE(sign_classic(store, image, key).ok());
  std::string tag = oci::digest_tag(image.digest, ".sig");
  auto sig_manifest = **store.get_tagged(tag);

  // A signature manifest copied to another image's tag: the payload names the first image.
  store.tags[oci::digest_tag(other.digest, ".sig")] = store.tags[tag];
  auto moved = verify_signatures_in(store, image_ref(), other.digest, key_options(key));
  ASSERT_TRUE(moved.ok());
  EXPECT_FALSE(moved->ok());
  EXPECT_NE(moved->failure_summary().find("the payload signs " + image.digest.str()), std::string::npos)
      << moved->failure_summary();

  // An edited payload under the old signature.
  std::string payload = store.blobs.at(sig_manifest.layers[0].digest.str());
  std::string edited = payload;
  edited.replace(edited.find("demo/app"), 8, "demo/xyz");
  auto ed = oci::Digest::sha256_of(as_bytes(edited));
  store.blobs[ed.str()] = edited;
  std::string m = sig_manifest.bytes;
  m.replace(m.find(sig_manifest.layers[0].digest.str()), ed.str().size(), ed.str());
  auto pm = oci::parse_manifest(m);
  ASSERT_TRUE(pm.ok());
  store.manifests[pm->digest.str()] = m;
  store.tags[tag] = pm->digest.str();
  auto tampered = verify_signatures_in(store, image_ref(), image.digest, key_options(key));
  ASSERT_TRUE(tampered.ok());
  EXPECT_FALSE(tampered->ok());
  EXPECT_NE(tampered->failure_summary().find("signature"), std::string::npos) << tampered->failure_summary();
}

TEST(CosignClassic, IntermediateReferrerModeIsRead) {
  // cosign's "OCI 1.1 with the old format": the classic manifest as a referrer with an
  // artifact type, found through the referrers tag index.
  MemoryRegistry store;
  auto image = store.add_image("v1", "layer");
  auto key = new_key();
  SignOptions so;
  so.layout = Layout::kClassic;
  ASSERT_TRUE(sign_manifest(store, image_ref(), image.descriptor(), sigstore::KeySigner(key), so).ok());
  ASSERT_TRUE(attest_manifest(store, image_ref(), image.descriptor(), sigstore::KeySigner(key), "https://openvex.dev/ns", bj::object{}, so).ok());
  for (auto [suffix, type] : {std::pair<std::string, std::string_view>{".sig", media_type::kArtifactSig},
                              std::pair<std::string, std::string_view>{".att", intoto::kInTotoPayloadType}}) {
    std::string tag = oci::digest_tag(image.digest, suffix);
    bj::object m = json::parse((*store.get_tagged(tag))->bytes)->as_object();
    store.tags.erase(tag);
    m["artifactType"] = std::string(type);
    m["subject"] = image.descriptor().to_json();
    auto parsed = oci::parse_manifest(json::serialize(m));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    store.cosign_empty_artifact_type = false;
    ASSERT_TRUE(store.put_manifest(*parsed, std::nullopt, false).ok());
  }
  auto sigs = verify_signatures_in(store, image_ref(), image.digest, key_options(key));
  ASSERT_TRUE(sigs.ok()) << sigs.error().message;
  ASSERT_EQ(sigs->verified.size(), 1u) << sigs->failure_summary();
  EXPECT_NE(sigs->verified[0].source.find("(referrer) layer 0"), std::string::npos) << sigs->verified[0].source;
  auto atts = verify_attestations_in(store, image_ref(), image.digest, "openvex", key_options(key));
  ASSERT_TRUE(atts.ok()) << atts.error().message;
  EXPECT_EQ(atts->verified.size(), 1u) << atts->failure_summary();
  auto wrong = verify_signatures_in(store, image_ref(), image.digest, key_options(new_key()));
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(wrong->ok());
}

TEST(CosignBundle, SignVerifiesThroughTheFallbackIndexWithEmptyArtifactType) {
  MemoryRegistry store;
  auto image = store.add_image("v1", "layer");
  auto key = new_key();
  SignOptions so;
  so.annotations = {{"k", "v"}};
  so.now = 1700000000;
  auto s = sign_manifest(store, image_ref(), image.descriptor(), sigstore::KeySigner(key), so);
  ASSERT_TRUE(s.ok()) << s.error().message;
  // The fallback tag index lists the referrer with the empty artifact type.
  auto idx = **store.get_tagged(oci::digest_tag(image.digest));
  ASSERT_EQ(idx.manifests.size(), 1u);
  EXPECT_EQ(idx.manifests[0].artifact_type, oci::media_type::kOciEmpty);
  // The referrer is laid out as cosign 3 lays it out.
  auto ref = *store.get_manifest(idx.manifests[0]);
  EXPECT_EQ(ref.artifact_type, media_type::kBundleV03);
  EXPECT_EQ(ref.config->media_type, oci::media_type::kOciEmpty);
  EXPECT_EQ(ref.config->digest.str(), "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  EXPECT_EQ(ref.config->size, 2);
  ASSERT_EQ(ref.layers.size(), 1u);
  EXPECT_EQ(ref.layers[0].media_type, media_type::kBundleV03);
  EXPECT_EQ(ref.subject->digest, image.digest);
  EXPECT_EQ(ref.annotations.at("dev.sigstore.bundle.content"), "dsse-envelope");
  EXPECT_EQ(ref.annotations.at("dev.sigstore.bundle.predicateType"), "https://sigstore.dev/cosign/sign/v1");
  EXPECT_EQ(ref.annotations.at("org.opencontainers.image.created"), "2023-11-14T22:13:20Z");

  auto r = verify_signatures_in(store, image_ref(), image.digest, key_options(key));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->verified.size(), 1u) << r->failure_summary();
  EXPECT_EQ(r->verified[0].layout, Layout::kBundle);
  EXPECT_EQ(r->verified[0].annotations.at("k"), "v");
  EXPECT_EQ(json::serialize(r->verified[0].json),
            R"({"critical":{"identity":{"docker-reference":"127.0.0.1:5000/demo/app"},"image":{"docker-manifest-digest":")" +
                image.digest.str() + R"("},"type":"https://sigstore.dev/cosign/sign/v1"},"optional":{"k":"v"}})");
  // Signatures are not attestations, and the wrong key fails with a reason naming the referrer.
  auto att = verify_attestations_in(store, image_ref(), image.digest, "", key_options(key));
  ASSERT_TRUE(att.ok());
  EXPECT_FALSE(att->ok());
  auto wrong = verify_signatures_in(store, image_ref(), image.digest, key_options(new_key()));
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(wrong->ok());
  ASSERT_EQ(wrong->rejected.size(), 1u);
  EXPECT_NE(wrong->rejected[0].source.find("(referrer)"), std::string::npos);

  // Another image's digest finds nothing.
  auto other = store.add_image("v2", "other");
  auto none = verify_signatures_in(store, image_ref(), other.digest, key_options(key));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->ok());
  EXPECT_EQ(none->failure_summary(), "no signatures found");
}

// Rewrites the only bundle referrer of `subject` in `store` through `edit` (on the bundle JSON
// and the referrer manifest JSON) and lists the result in `target`'s referrers tag index.
void rewrite_referrer(MemoryRegistry& store, const oci::Digest& subject, const oci::Manifest& target,
                      const std::function<void(bj::object& bundle)>& edit) {
  auto idx = **store.get_tagged(oci::digest_tag(subject));
  auto ref = *store.get_manifest(idx.manifests.at(0));
  bj::object bundle = json::parse(store.blobs.at(ref.layers.at(0).digest.str()))->as_object();
  edit(bundle);
  std::string bundle_bytes = json::serialize(bundle);
  auto bd = oci::Digest::sha256_of(as_bytes(bundle_bytes));
  store.blobs[bd.str()] = bundle_bytes;
  bj::object m = json::parse(ref.bytes)->as_object();
  m["layers"].as_array()[0].as_object()["digest"] = bd.str();
  m["layers"].as_array()[0].as_object()["size"] = bundle_bytes.size();
  m["subject"] = target.descriptor().to_json();
  auto parsed = oci::parse_manifest(json::serialize(m));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_TRUE(store.put_manifest(*parsed, std::nullopt, false).ok());
}

TEST(CosignBundle, TamperedBundlesAreRejected) {
  auto key = new_key();
  SignOptions so;
  {
    MemoryRegistry store;
    auto image = store.add_image("v1", "layer");
    ASSERT_TRUE(sign_manifest(store, image_ref(), image.descriptor(), sigstore::KeySigner(key), so).ok());
    // The statement changed under the old signature, listed beside the untouched referrer.
    rewrite_referrer(store, image.digest, image, [&](bj::object& b) {
      auto& env = b["dsseEnvelope"].as_object();
      std::string payload = to_string(*base64_decode(env["payload"].as_string()));
      payload.replace(payload.find("\"annotations\":{}"), 16, "\"annotations\":{\"x\":\"y\"}");
      env["payload"] = base64_encode(as_bytes(payload));
    });
    auto idx = **store.get_tagged(oci::digest_tag(image.digest));
    ASSERT_EQ(idx.manifests.size(), 2u);
    auto r = verify_signatures_in(store, image_ref(), image.digest, key_options(key));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->verified.size(), 1u) << r->failure_summary();  // the untouched one
    ASSERT_EQ(r->rejected.size(), 1u);
    EXPECT_NE(r->rejected[0].reason.find("DSSE envelope's signature does not verify"), std::string::npos)
        << r->rejected[0].reason;
  }
  {
    // A good bundle for image A, re-attached as a referrer of image B.
    MemoryRegistry store;
    auto a = store.add_image("a", "layer a");
    auto b = store.add_image("b", "layer b");
    ASSERT_TRUE(sign_manifest(store, image_ref(), a.descriptor(), sigstore::KeySigner(key), so).ok());
    rewrite_referrer(store, a.digest, b, [](bj::object&) {});
    auto r = verify_signatures_in(store, image_ref(), b.digest, key_options(key));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE(r->ok());
    ASSERT_EQ(r->rejected.size(), 1u) << r->failure_summary();
    EXPECT_NE(r->rejected[0].reason.find("in-toto statement's subjects"), std::string::npos) << r->rejected[0].reason;
  }
}

TEST(CosignAttestations, EveryPredicateTypeRoundTripsInBothLayouts) {
  for (Layout layout : {Layout::kClassic, Layout::kBundle}) {
    MemoryRegistry store;
    auto image = store.add_image("v1", "layer");
    auto key = new_key();
    SignOptions so;
    so.layout = layout;
    std::vector<std::string> types = {"custom", "slsaprovenance", "slsaprovenance1", "spdxjson", "cyclonedx",
                                      "link", "vuln", "openvex", "https://example.com/my/v1"};
    for (const auto& t : types) {
      auto uri = intoto::predicate_type_for(t);
      ASSERT_TRUE(uri.ok()) << t;
      bj::value predicate = bj::object{{"name", t}};
      auto a = attest_manifest(store, image_ref(), image.descriptor(), sigstore::KeySigner(key), *uri, predicate, so);
      ASSERT_TRUE(a.ok()) << t << ": " << a.error().message;
    }
    if (layout == Layout::kClassic) {
      auto att = **store.get_tagged(oci::digest_tag(image.digest, ".att"));
      ASSERT_EQ(att.layers.size(), types.size());
      EXPECT_EQ(att.layers[0].media_type, media_type::kDsseEnvelope);
      EXPECT_EQ(att.layers[1].annotations.at("predicateType"), "https://slsa.dev/provenance/v0.2");
    }
    for (const auto& t : types) {
      auto r = verify_attestations_in(store, image_ref(), image.digest, t, key_options(key));
      ASSERT_TRUE(r.ok()) << r.error().message;
      ASSERT_EQ(r->verified.size(), 1u) << layout_name(layout) << " " << t << ": " << r->failure_summary();
      EXPECT_EQ(r->verified[0].layout, layout);
      EXPECT_EQ(r->verified[0].json.as_object().at("predicate").as_object().at("name").as_string(), t);
      auto env = intoto::parse_envelope(r->verified[0].envelope);
      ASSERT_TRUE(env.ok()) << env.error().message;
      EXPECT_EQ(to_string(env->payload), r->verified[0].payload);
      EXPECT_TRUE(intoto::verify_envelope(*env, key.public_key()).ok());
      const auto& subject = r->verified[0].json.as_object().at("subject").as_array()[0].as_object();
      EXPECT_EQ(subject.at("name").as_string(), "127.0.0.1:5000/demo/app");
      EXPECT_EQ(subject.at("digest").as_object().at("sha256").as_string(), image.digest.hex());
    }
    auto any = verify_attestations_in(store, image_ref(), image.digest, "", key_options(key));
    ASSERT_TRUE(any.ok());
    EXPECT_EQ(any->verified.size(), types.size());
    auto wrong = verify_attestations_in(store, image_ref(), image.digest, "cyclonedx", key_options(new_key()));
    ASSERT_TRUE(wrong.ok());
    EXPECT_FALSE(wrong->ok());
    // Attestations are not signatures.
    auto sigs = verify_signatures_in(store, image_ref(), image.digest, key_options(key));
    ASSERT_TRUE(sigs.ok());
    EXPECT_FALSE(sigs->ok());
  }
}

TEST(CosignAttestations, StatementAboutAnotherDigestIsRejected) {
  MemoryRegistry store;
  auto image = store.add_image("v1", "layer");
  auto other = store.add_image("v2", "other");
  auto key = new_key();
  SignOptions so;
  so.layout = Layout::kClassic;
  ASSERT_TRUE(attest_manifest(store, image_ref(), other.descriptor(), sigstore::KeySigner(key), "https://openvex.dev/ns", bj::object{}, so).ok());
  // Copy the other image's attestation manifest to this image's tag.
  store.tags[oci::digest_tag(image.digest, ".att")] = store.tags[oci::digest_tag(other.digest, ".att")];
  auto r = verify_attestations_in(store, image_ref(), image.digest, "openvex", key_options(key));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->rejected.size(), 1u);
  EXPECT_NE(r->failure_summary().find("subject"), std::string::npos) << r->failure_summary();
}

TEST(CosignVerify, OptionsAreChecked) {
  MemoryRegistry store;
  auto image = store.add_image("v1", "layer");
  VerifyOptions none;
  auto r = verify_signatures_in(store, image_ref(), image.digest, none);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  VerifyOptions bad_pem;
  bad_pem.key_pems.push_back("not a key");
  bad_pem.ignore_tlog = true;
  EXPECT_FALSE(verify_signatures_in(store, image_ref(), image.digest, bad_pem).ok());
  VerifyOptions tlog_no_root = key_options(new_key());
  tlog_no_root.ignore_tlog = false;
  EXPECT_FALSE(verify_signatures_in(store, image_ref(), image.digest, tlog_no_root).ok());
  // Several keys: any may have signed, and the result says which one did.
  auto signer = new_key();
  ASSERT_TRUE(sign_classic(store, image, signer).ok());
  VerifyOptions pem = key_options(new_key());
  pem.key_pems.push_back(signer.public_key().pem());
  auto ok = verify_signatures_in(store, image_ref(), image.digest, pem);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  ASSERT_EQ(ok->verified.size(), 1u) << ok->failure_summary();
  EXPECT_EQ(ok->verified[0].key_index, std::optional<size_t>(1));
}

// A registry failing on one layout's lookup: recorded, and the other layout still verifies.
class FailingReferrers : public MemoryRegistry {
 public:
  Result<std::vector<oci::Descriptor>> referrers(const oci::Digest&) override {
    return io_error("HTTP 500 from the registry");
  }
};

TEST(CosignVerify, ALayoutThatCannotBeReadDoesNotHideTheOther) {
  FailingReferrers store;
  auto image = store.add_image("v1", "layer");
  auto key = new_key();
  ASSERT_TRUE(sign_classic(store, image, key).ok());
  auto r = verify_signatures_in(store, image_ref(), image.digest, key_options(key));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verified.size(), 1u);
  ASSERT_EQ(r->rejected.size(), 1u);
  EXPECT_NE(r->rejected[0].source.find("referrers of"), std::string::npos);
  EXPECT_NE(r->rejected[0].reason.find("HTTP 500"), std::string::npos);
}

TEST(CosignVerify, MalformedCandidatesAreNamedAndDoNotHideGoodOnes) {
  MemoryRegistry store;
  auto image = store.add_image("v1", "layer");
  auto key = new_key();
  ASSERT_TRUE(sign_classic(store, image, key).ok());
  // Prepend a layer with no signature annotation and a bad media type.
  std::string tag = oci::digest_tag(image.digest, ".sig");
  auto sig_manifest = **store.get_tagged(tag);
  bj::object m = json::parse(sig_manifest.bytes)->as_object();
  bj::array layers = m["layers"].as_array();
  bj::object junk = layers[0].as_object();
  junk["mediaType"] = "application/octet-stream";
  layers.insert(layers.begin(), junk);
  m["layers"] = layers;
  std::string bytes = json::serialize(m);
  auto d = oci::Digest::sha256_of(as_bytes(bytes));
  store.manifests[d.str()] = bytes;
  store.tags[tag] = d.str();
  auto r = verify_signatures_in(store, image_ref(), image.digest, key_options(key));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verified.size(), 1u);
  ASSERT_EQ(r->rejected.size(), 1u);
  EXPECT_NE(r->rejected[0].reason.find("application/octet-stream"), std::string::npos);
}

}  // namespace
}  // namespace vouch::cosign

namespace vouch::cosign {
namespace {

// An image digest that does not decode stops verification with an error; it is never checked
// as an empty artifact.
TEST(CosignVerify, ImageDigestThatDoesNotDecodeIsAnError) {
  MemoryRegistry store;
  auto key = new_key();
  for (std::string hex : {std::string(64, 'z'), std::string(10, 'a')}) {
    auto r = verify_attestations_in(store, image_ref(), oci::Digest::sha256_from_hex(hex), "", key_options(key));
    ASSERT_FALSE(r.ok()) << hex;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput) << r.error().message;
    EXPECT_FALSE(verify_signatures_in(store, image_ref(), oci::Digest::sha256_from_hex(hex), key_options(key)).ok());
  }
}

}  // namespace
}  // namespace vouch::cosign
