// ImageValidatingPolicy: strict reading, the image functions over a recorded verifier, the
// digest and `required` checks, mutateDigest, and Kyverno's glob.
#include <set>

#include <gtest/gtest.h>

#include "vouch/base/json.h"
#include "vouch/policy/engine.h"
#include "vouch/policy/image_policy.h"
#include "vouch/policy/policy.h"
#include "vouch/policy/values.h"

namespace vouch::policy {
namespace {

constexpr const char* kDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

std::string policy_yaml(std::string_view api_version, std::string_view validations, std::string_view extra = "") {
  return fmt::format(R"yaml(
apiVersion: policies.kyverno.io/{}
kind: ImageValidatingPolicy
metadata:
  name: ivpol
spec:
  validationActions: [Deny]
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: [v1]
      operations: [CREATE]
      resources: [pods]
  matchConditions:
  - name: labelled
    expression: "has(object.metadata.labels) && object.metadata.labels.check == 'yes'"
  matchImageReferences:
  - glob: "ghcr.io/acme/*"
  - expression: "ref.startsWith('registry.example/')"
  attestors:
  - name: key
    cosign:
      key:
        data: "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n"
      ctlog: {{insecureIgnoreTlog: true}}
  - name: team
    cosign:
      keyless:
        identities:
        - {{issuer: "https://token.actions.githubusercontent.com", subjectRegExp: "^https://github.com/acme/.*$"}}
  - name: notary
    notary:
      certs:
        expression: "'-----BEGIN CERTIFICATE-----from-an-expression'"
  attestations:
  - name: sbom
    intoto: {{type: https://cyclonedx.org/bom}}
  - name: scan
    referrer: {{type: application/vnd.scan+json}}
{}
  validations:
{}
)yaml",
                     api_version, extra, validations);
}

// A verifier that answers from tables and records what it was asked.
class FakeVerifier : public ImagePolicyVerifier {
 public:
  std::map<std::string, bj::value> data;                  // image -> image data
  std::map<std::string, std::set<std::string>> signed_by;  // image -> attestors that verify
  std::map<std::string, bj::value> statements;             // image -> in-toto statement
  std::map<std::string, bj::value> referrers;              // image -> referrer payload
  std::vector<std::string> asked;
  std::vector<std::string> attestor_payloads;  // what each attestor looked like when it arrived

  Result<bj::value> image_data(const std::string& image, bool) override {
    asked.push_back("data " + image);
    auto it = data.find(image);
    if (it == data.end()) return not_found(fmt::format("{}: manifest unknown", image));
    return it->second;
  }
  Result<AttestorOutcome> verify_signature(const std::string& image, const IvpolAttestor& a, bool) override {
    asked.push_back("signature " + image + " " + a.name);
    if (a.notary) attestor_payloads.push_back(a.notary->certs.value);
    AttestorOutcome o;
    o.verified = signed_by[image].count(a.name) > 0;
    return o;
  }
  Result<AttestorOutcome> verify_attestation(const std::string& image, const IvpolAttestation& at, const IvpolAttestor& a,
                                             bool) override {
    asked.push_back("attestation " + image + " " + at.name + " " + a.name);
    AttestorOutcome o;
    if (signed_by[image].count(a.name) && statements.count(image)) {
      o.verified = true;
      o.statements.push_back(statements[image]);
    }
    return o;
  }
  Result<bj::value> referrer_payload(const std::string& image, const std::string& type, const std::string&, bool) override {
    asked.push_back("referrer " + image + " " + type);
    auto it = referrers.find(image);
    if (it == referrers.end()) return not_found(fmt::format("artifact of type {} not found", type));
    return it->second;
  }
  Result<std::string> resolve_digest(const std::string& image, bool) override {
    asked.push_back("resolve " + image);
    return std::string(kDigest);
  }
};

bj::value pod(std::vector<std::string> images, bool labelled = true) {
  bj::array containers;
  for (size_t i = 0; i < images.size(); ++i) containers.push_back(bj::object{{"name", fmt::format("c{}", i)}, {"image", images[i]}});
  bj::object meta{{"name", "p"}, {"namespace", "default"}};
  if (labelled) meta["labels"] = bj::object{{"check", "yes"}};
  return bj::object{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", meta}, {"spec", bj::object{{"containers", containers}}}};
}

Policy parse_one(const std::string& yaml) {
  auto policies = parse_policies(yaml, "ivpol.yaml");
  EXPECT_TRUE(policies.ok()) << policies.error().message;
  if (!policies.ok() || policies->size() != 1) return {};
  return (*policies)[0];
}

std::vector<RuleResult> run(const Policy& p, bj::value object, std::shared_ptr<ImagePolicyVerifier> verifier) {
  Request r;
  r.object = std::move(object);
  Engine engine({.verifier = nullptr, .image_policy_verifier = std::move(verifier)});
  return engine.apply(p, r);
}

bj::value image_data(const std::string& image) {
  return bj::object{{"image", image}, {"digest", kDigest}, {"registry", "ghcr.io"},
                    {"config", bj::object{{"architecture", "amd64"}}}};
}

const std::string kSigned = std::string("ghcr.io/acme/app:1@") + kDigest;
const std::string kOther = std::string("ghcr.io/acme/other:1@") + kDigest;

TEST(ImagePolicy, ParsesEveryVersion) {
  for (const char* version : {"v1alpha1", "v1beta1", "v1"}) {
    Policy p = parse_one(policy_yaml(version, "  - expression: 'true'"));
    ASSERT_TRUE(p.image_policy) << version;
    EXPECT_EQ(p.kind, "ImageValidatingPolicy");
    EXPECT_EQ(p.failure_action, FailureAction::kEnforce);
    const auto& ip = *p.image_policy;
    ASSERT_EQ(ip.attestors.size(), 3u);
    EXPECT_TRUE(ip.attestors[0].cosign->has_key);
    EXPECT_TRUE(ip.attestors[0].cosign->insecure_ignore_tlog);
    ASSERT_EQ(ip.attestors[1].cosign->identities.size(), 1u);
    EXPECT_EQ(ip.attestors[1].cosign->identities[0].subject_regexp, "^https://github.com/acme/.*$");
    EXPECT_EQ(ip.attestors[2].notary->certs.expression, "'-----BEGIN CERTIFICATE-----from-an-expression'");
    EXPECT_EQ(ip.attestations[0].intoto_type, "https://cyclonedx.org/bom");
    EXPECT_EQ(ip.attestations[1].referrer_type, "application/vnd.scan+json");
    EXPECT_TRUE(ip.mutate_digest && ip.verify_digest && ip.required);
  }
}

TEST(ImagePolicy, UnknownFieldsAndUnsupportedSettingsNameTheirPath) {
  struct Case {
    std::string from, to, error;
  };
  const std::vector<Case> cases = {
      {"ctlog: {insecureIgnoreTlog: true}", "ctlog: {insecureIgnoreTlog: true, bogus: 1}",
       "spec.attestors[0].cosign.ctlog.bogus: unknown field"},
      {"  attestations:", "  colour: blue\n  attestations:", "spec.colour: unknown field"},
      {"data: \"-----BEGIN", "kms: awskms:///alias/x\n        data: \"-----BEGIN",
       "spec.attestors[0].cosign.key.kms: KMS keys are not supported"},
      {"  - name: notary\n    notary:", "  - name: notary\n    cosign: {key: {data: x}}\n    notary:",
       "spec.attestors[2]: exactly one of cosign or notary is required"},
      {"- glob: \"ghcr.io/acme/*\"", "- glob: \"ghcr.io/acme/*\"\n    expression: \"true\"",
       "spec.matchImageReferences[0]: exactly one of glob or expression is required"},
      {"intoto: {type: https://cyclonedx.org/bom}", "intoto: {type: https://cyclonedx.org/bom, x: 1}",
       "spec.attestations[0].intoto.x: unknown field"},
      {"ctlog: {insecureIgnoreTlog: true}", "ctlog: {rekorPubKey: abc}", "spec.attestors[0].cosign.ctlog.rekorPubKey: is not supported"},
      {"  attestations:", "  credentials: {secrets: [regcred]}\n  attestations:", "spec.credentials.secrets: is not supported"},
      {"  attestations:", "  evaluation: {mode: JSON}\n  attestations:", "spec.evaluation.mode: JSON is not supported"},
      {"  attestations:", "  validationConfigurations: {mutateDigest: false, strict: true}\n  attestations:",
       "spec.validationConfigurations.strict: unknown field"},
      {"subjectRegExp: \"^https://github.com/acme/.*$\"}", "subjectRegExp: x, subjectExpression: yy}",
       "spec.attestors[1].cosign.keyless.identities[0].subjectExpression: is not supported"},
  };
  const std::string base = policy_yaml("v1", "  - expression: 'true'");
  for (const auto& c : cases) {
    std::string yaml = base;
    size_t at = yaml.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    yaml.replace(at, c.from.size(), c.to);
    auto r = parse_policies(yaml, "ivpol.yaml");
    ASSERT_FALSE(r.ok()) << c.error;
    EXPECT_NE(r.error().message.find(c.error), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("ImageValidatingPolicy ivpol"), std::string::npos) << r.error().message;
  }
  auto bad = parse_policies(policy_yaml("v1", "  - expression: 'images.containers.all(i,'"), "ivpol.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("spec.validations[0].expression: CEL syntax error"), std::string::npos)
      << bad.error().message;
}

TEST(ImagePolicy, VerifyImageSignaturesCountsVerifiedAttestors) {
  Policy p = parse_one(policy_yaml("v1", R"y(  - expression: "images.containers.map(i, verifyImageSignatures(i, [attestors.key, attestors.team])).all(n, n == 2)"
    message: "both must sign")y"));
  auto v = std::make_shared<FakeVerifier>();
  v->data[kSigned] = image_data(kSigned);
  v->data[kOther] = image_data(kOther);
  v->signed_by[kSigned] = {"key", "team"};
  v->signed_by[kOther] = {"key"};
  auto r = run(p, pod({kSigned}), v);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kPass) << r[0].message;
  EXPECT_EQ(r[0].type, "ImageVerify");
  r = run(p, pod({kSigned, kOther}), v);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kFail);
  EXPECT_EQ(r[0].message, "both must sign");
  // Why, beside Kyverno's message: in the result's properties.
  EXPECT_EQ(r[0].properties["imageVerification"], kOther + ": attestor team: not verified");
  // Not labelled: the match condition excludes it.
  EXPECT_TRUE(run(p, pod({kSigned}, false), v).empty());
}

// Kyverno's autogen: the policy on Pods also judges Pod controllers, through their template
// (the match condition reads the template's labels) and their template's images.
TEST(ImagePolicy, AutogenJudgesPodControllers) {
  Policy p = parse_one(policy_yaml("v1", R"y(  - expression: "images.containers.map(i, verifyImageSignatures(i, [attestors.key])).all(n, n == 1)"
    message: "must be signed")y"));
  ASSERT_EQ(p.image_policy->autogen.size(), 2u);
  auto v = std::make_shared<FakeVerifier>();
  v->data[kSigned] = image_data(kSigned);
  v->data[kOther] = image_data(kOther);
  v->signed_by[kSigned] = {"key"};
  auto controller = [](std::string api, std::string kind, const std::string& image, bool cronjob) {
    bj::value template_pod = pod({image});
    bj::object tmpl{{"metadata", template_pod.at("metadata")}, {"spec", template_pod.at("spec")}};
    bj::object spec{{"template", tmpl}};
    if (cronjob) spec = bj::object{{"schedule", "* * * * *"}, {"jobTemplate", bj::object{{"spec", spec}}}};
    return bj::value(bj::object{{"apiVersion", api}, {"kind", kind},
                                {"metadata", bj::object{{"name", "w"}, {"namespace", "default"}}}, {"spec", spec}});
  };
  for (bool cronjob : {false, true}) {
    std::string api = cronjob ? "batch/v1" : "apps/v1", kind = cronjob ? "CronJob" : "Deployment";
    auto pass = run(p, controller(api, kind, kSigned, cronjob), v);
    ASSERT_EQ(pass.size(), 1u) << kind;
    EXPECT_EQ(pass[0].status, RuleStatus::kPass) << pass[0].message;
    EXPECT_TRUE(pass[0].autogen);
    auto fail = run(p, controller(api, kind, kOther, cronjob), v);
    ASSERT_EQ(fail.size(), 1u) << kind;
    EXPECT_EQ(fail[0].status, RuleStatus::kFail) << kind;
    EXPECT_EQ(fail[0].message, "must be signed");
  }
  auto off = parse_one(policy_yaml("v1", "  - expression: 'true'", "  autogen: {podControllers: {controllers: []}}"));
  EXPECT_TRUE(off.image_policy->autogen.empty());
  EXPECT_TRUE(run(off, controller("apps/v1", "Deployment", kSigned, false), v).empty());
}

TEST(ImagePolicy, ImagesOutsideMatchImageReferencesAreNotVerified) {
  Policy p = parse_one(policy_yaml("v1", R"y(  - expression: "images.containers.size() == 1 && verifyImageSignatures('docker.io/library/nginx@sha256:1111111111111111111111111111111111111111111111111111111111111111', [attestors.key]) == 0")y"));
  auto v = std::make_shared<FakeVerifier>();
  const std::string elsewhere = std::string("docker.io/library/nginx:1@") + kDigest;
  const std::string listed = std::string("registry.example/app@") + kDigest;
  v->data[listed] = image_data(listed);
  v->signed_by[listed] = {"key"};
  // required then fails the one selected image, which no attestor checked.
  auto r = run(p, pod({elsewhere, listed}), v);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kFail);
  EXPECT_EQ(r[0].message, fmt::format("image {} is not verified: no policy performed a signature or attestation check on it", listed));
  for (const auto& a : v->asked) EXPECT_EQ(a.find("nginx"), std::string::npos) << a;
}

TEST(ImagePolicy, RequiredAndVerifyDigest) {
  const char* validation = R"y(  - expression: "images.containers.all(i, getImageData(i).config.architecture == 'amd64')")y";
  Policy p = parse_one(policy_yaml("v1", validation));
  auto v = std::make_shared<FakeVerifier>();
  v->data[kSigned] = image_data(kSigned);
  auto r = run(p, pod({kSigned}), v);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kFail);
  EXPECT_NE(r[0].message.find("is not verified"), std::string::npos);
  Policy relaxed = parse_one(policy_yaml("v1", validation, "  validationConfigurations: {required: false, verifyDigest: false}"));
  r = run(relaxed, pod({kSigned}), v);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kPass) << r[0].message;
  // A tag without a digest fails before anything is read.
  v->asked.clear();
  r = run(p, pod({"ghcr.io/acme/app:1"}), v);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kFail);
  EXPECT_EQ(r[0].message, "image ghcr.io/acme/app:1 does not have a digest");
  EXPECT_TRUE(v->asked.empty());
  // An image that cannot be read is an error, as is having no registry at all.
  r = run(relaxed, pod({"ghcr.io/acme/missing:1"}), v);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kError);
  EXPECT_NE(r[0].message.find("failed to get imagedata: ghcr.io/acme/missing:1: manifest unknown"), std::string::npos);
  r = run(relaxed, pod({kSigned}), nullptr);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kError);
}

TEST(ImagePolicy, RequiredCountsEveryPolicyOfTheRequest) {
  // A catch-all policy that verifies nothing itself passes an image another policy verified,
  // and fails one nobody verified, whichever order they run in.
  std::string catch_all = policy_yaml("v1", R"y(  - expression: "images.containers.all(i, getImageData(i).config.architecture == 'amd64')")y");
  catch_all.replace(catch_all.find("name: ivpol"), 11, "name: catch-all");
  Policy verifier_policy = parse_one(policy_yaml("v1", R"y(  - expression: "images.containers.all(i, verifyImageSignatures(i, [attestors.key]) >= 0)")y"));
  Policy required = parse_one(catch_all);
  auto v = std::make_shared<FakeVerifier>();
  v->data[kSigned] = image_data(kSigned);
  v->data[kOther] = image_data(kOther);
  v->signed_by[kSigned] = {"key"};
  Engine engine({.verifier = nullptr, .image_policy_verifier = v});
  for (const auto& order : {std::vector<Policy>{required, verifier_policy}, std::vector<Policy>{verifier_policy, required}}) {
    auto evaluated = evaluate_all(engine, order, {pod({kSigned}), pod({kOther})}, Values{}, UserInfo{});
    std::map<std::string, std::string> got;  // "policy resource-index" -> "status message"
    for (const auto& e : evaluated)
      got[fmt::format("{} {}", e.result.policy, e.resource_index)] =
          std::string(rule_status_name(e.result.status)) + " " + e.result.message;
    const std::string unverified = fmt::format("fail image {} failed signature or attestation verification", kOther);
    EXPECT_EQ(got["catch-all 0"], "pass success");
    EXPECT_EQ(got["ivpol 0"], "pass success");
    EXPECT_EQ(got["catch-all 1"], unverified);
    EXPECT_EQ(got["ivpol 1"], unverified);
  }
}

TEST(ImagePolicy, AttestationsAndPayloads) {
  Policy p = parse_one(policy_yaml("v1", R"y(  - expression: "images.containers.all(i, verifyAttestationSignatures(i, attestations.sbom, [attestors.key]) > 0)"
    message: "no sbom"
  - expression: "images.containers.all(i, extractPayload(i, attestations.sbom).predicate.bomFormat == 'CycloneDX')"
    messageExpression: "'format is ' + extractPayload(images.containers[0], attestations.sbom).predicate.bomFormat"
  - expression: "images.containers.all(i, extractPayload(i, attestations.scan).findings == 0)")y"));
  auto v = std::make_shared<FakeVerifier>();
  v->data[kSigned] = image_data(kSigned);
  v->signed_by[kSigned] = {"key"};
  v->statements[kSigned] = *json::parse(R"({"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://cyclonedx.org/bom",
                                            "predicate": {"bomFormat": "SPDX"}})");
  v->referrers[kSigned] = *json::parse(R"({"findings": 0})");
  auto r = run(p, pod({kSigned}), v);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kFail);
  EXPECT_EQ(r[0].message, "format is SPDX");
  v->statements[kSigned].as_object()["predicate"].as_object()["bomFormat"] = "CycloneDX";
  r = run(p, pod({kSigned}), v);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kPass) << r[0].message;
  // Unverified: no payload can be extracted before verification.
  v->signed_by[kSigned].clear();
  Policy payload_only = parse_one(policy_yaml("v1", R"y(  - expression: "images.containers.all(i, extractPayload(i, attestations.sbom).predicate.bomFormat == 'CycloneDX')")y"));
  r = run(payload_only, pod({kSigned}), v);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kError);
  EXPECT_NE(r[0].message.find("cannot be fetch before verifying"), std::string::npos) << r[0].message;
}

TEST(ImagePolicy, AttestorExpressionsAndImageFunctions) {
  Policy p = parse_one(policy_yaml("v1", R"y(  - expression: "images.containers.all(i, verifyImageSignatures(i, [attestors.notary]) == 1)"
  - expression: "image('nginx').registry() == 'index.docker.io' && image('nginx').repository() == 'library/nginx' && image('nginx').tag() == 'latest'"
  - expression: "parseImageReference(images.containers[0]).containsDigest() && image(images.containers[0]).tag() == '' && image(images.containers[0]).identifier() == image(images.containers[0]).digest()"
  - expression: "isImage('ghcr.io/acme/app:1') && !isImage('UPPER/Case')"
  - expression: "image.GetMetadata(images.containers[0]).registry == 'ghcr.io'"
  - expression: "false")y"));
  auto v = std::make_shared<FakeVerifier>();
  v->data[kSigned] = image_data(kSigned);
  v->signed_by[kSigned] = {"notary"};
  auto r = run(p, pod({kSigned}), v);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, RuleStatus::kFail);
  EXPECT_EQ(r[0].message, "CEL expression validation failed at index 5");
  ASSERT_EQ(v->attestor_payloads.size(), 1u);
  EXPECT_EQ(v->attestor_payloads[0], "-----BEGIN CERTIFICATE-----from-an-expression");
}

TEST(ImagePolicy, MutateDigestPinsSelectedTags) {
  Policy p = parse_one(policy_yaml("v1", "  - expression: 'true'"));
  auto v = std::make_shared<FakeVerifier>();
  Request r;
  r.object = pod({"ghcr.io/acme/app:1", "docker.io/library/nginx:1", kSigned});
  auto m = mutate_image_digests(*p.image_policy, r, v.get());
  EXPECT_FALSE(m.error);
  ASSERT_EQ(m.patches.size(), 1u);
  EXPECT_EQ(bj::serialize(m.patches[0]),
            fmt::format(R"({{"op":"replace","path":"/spec/containers/0/image","value":"ghcr.io/acme/app:1@{}"}})", kDigest));
  Policy off = parse_one(policy_yaml("v1", "  - expression: 'true'", "  validationConfigurations: {mutateDigest: false}"));
  EXPECT_TRUE(mutate_image_digests(*off.image_policy, r, v.get()).patches.empty());
  auto none = mutate_image_digests(*p.image_policy, r, nullptr);
  ASSERT_TRUE(none.error);
  EXPECT_NE(none.error->message.find("failed to update digest"), std::string::npos);
}

TEST(ImagePolicy, GlobAsKyvernoMatchesIt) {
  EXPECT_TRUE(image_glob_match("ghcr.io/*", "ghcr.io/kyverno/test-verify-image:signed"));
  EXPECT_TRUE(image_glob_match("*", "anything/at/all:1"));
  EXPECT_FALSE(image_glob_match("ghcr.io/*", "docker.io/ghcr.io/x"));
  EXPECT_TRUE(image_glob_match("reg/{a,b}:*", "reg/b:1"));
  EXPECT_FALSE(image_glob_match("reg/{a,b}:*", "reg/c:1"));
  EXPECT_TRUE(image_glob_match("reg/app:v?", "reg/app:v1"));
  EXPECT_FALSE(image_glob_match("reg/app:v?", "reg/app:v10"));
  EXPECT_TRUE(image_glob_match("reg/[a-c]pp:1", "reg/app:1"));
  EXPECT_FALSE(image_glob_match("reg/[!a]pp:1", "reg/app:1"));
  EXPECT_TRUE(image_glob_match("reg/\\*:1", "reg/*:1"));
  EXPECT_FALSE(image_glob_match("reg/\\*:1", "reg/x:1"));
}

}  // namespace
}  // namespace vouch::policy
