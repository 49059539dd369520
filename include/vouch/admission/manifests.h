// The Kubernetes objects that deploy vouch's admission webhook, built from the policies it is to
// serve: Namespace, ServiceAccount, the policies' ConfigMap, the serving certificate's Secret,
// Service, Deployment, PodDisruptionBudget, and the Validating- and MutatingWebhookConfiguration.
// The webhooks are derived from the policies as Kyverno derives its own: one webhook per failure
// policy that some policy needs (validate.vouch.svc-fail|ignore, mutate.vouch.svc-fail|ignore),
// rules from the rules' match and exclude kinds and operations, the timeout raised by the
// policies' webhookTimeoutSeconds.
//
//   auto manifests = build_manifests(files, {.ns = "vouch", .ca_bundle_pem = ca_pem, .secret = secret});
//   std::cout << to_yaml(*manifests);
//
// Nothing here reads files or makes keys: the caller brings the policy files and the certificates.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/policy/policy.h"

namespace vouch::admission {

namespace bj = boost::json;

// The names the objects share.
inline constexpr std::string_view kAppName = "vouch-admission";  // ServiceAccount, Service, Deployment, PDB
inline constexpr std::string_view kPoliciesConfigMap = "vouch-admission-policies";
inline constexpr std::string_view kTlsSecret = "vouch-admission-tls";
inline constexpr std::string_view kDefaultImage = "vouch:0.1.0";
inline constexpr int kServicePort = 443;
inline constexpr int kContainerPort = 9443;

// One policy file as the ConfigMap carries it.
struct PolicyFile {
  std::string key;       // the ConfigMap key, normally the file's name: [-._a-zA-Z0-9]+
  std::string contents;  // the file as read (UTF-8)
  std::vector<policy::Policy> policies;  // the ClusterPolicy and Policy documents parsed from `contents`
};

// The serving certificate, PEM, as the Secret (type kubernetes.io/tls) holds it.
struct ServingSecret {
  std::string cert_pem;  // tls.crt
  std::string key_pem;   // tls.key
  std::string ca_pem;    // ca.crt
};

struct ManifestOptions {
  std::string ns = "vouch";
  std::string image = std::string(kDefaultImage);
  int replicas = 3;
  // The CA certificates (PEM) the API server trusts for the webhook's TLS: the webhooks' caBundle.
  std::string ca_bundle_pem;
  // Absent: the Secret is left out (created apart, e.g. with `kubectl create secret tls`), so the
  // output holds no private key; a note says how to create it.
  std::optional<ServingSecret> secret;
  // A digest of what the pods load (policies, certificate), written as the pod template's
  // annotation vouch.dev/config-digest so that applying changed manifests rolls the pods. Empty: none.
  std::string config_digest;
};

struct Manifests {
  std::vector<bj::object> objects;  // in the order they are to be applied
  std::vector<std::string> notes;   // for whoever applies them: RBAC, the Secret, guessed resource names
};

// A resource a kind selector names, as a webhook rule names it.
struct ResourceRef {
  std::string group;     // "" for the core group, "*" for any
  std::string version;   // "*" for any
  std::string resource;  // plural, with "/subresource" when one is named; "*" or "*/*" for all
  bool guessed = false;  // the plural was guessed from a custom kind
  friend bool operator==(const ResourceRef&, const ResourceRef&) = default;
};

// The resources a Kyverno kind selector stands for: `Kind`, `Kind/subresource`, `version/Kind`,
// `group/version/Kind[/subresource]`, `*`, `*/*`, `*/subresource`. A bare or versioned kind must be
// a built-in Kubernetes kind; a custom resource is named with its group and version.
Result<std::vector<ResourceRef>> resolve_kind(std::string_view selector);

// The built-in kind Kubernetes serves at `resource` (a plural: "deployments") of API `group` ("apps";
// "" for the core group), as API discovery names it: what the webhook matches a subresource request
// as. nullopt for a resource vouch does not know (a custom resource: vouch has no discovery).
std::optional<std::string> builtin_kind_of(std::string_view group, std::string_view resource);

// The names the serving certificate must carry: <service>.<ns>.svc and <service>.<ns>.svc.cluster.local.
std::vector<std::string> service_dns_names(std::string_view ns);

// A namespace vouch may be installed in: a DNS-1123 label and not one of Kubernetes' own
// (kube-system, kube-public, kube-node-lease, default), which the webhooks must not exclude or relabel.
Status check_namespace(std::string_view ns);

// The objects for `files`. kInvalidInput, naming the file, policy and rule, for a policy whose
// kinds cannot be resolved (an unknown kind, a match without kinds, an unknown operation), for
// policies none of which runs at admission, and for options that make no sense.
Result<Manifests> build_manifests(const std::vector<PolicyFile>& files, const ManifestOptions& options);

// A YAML stream: the notes as comments, then one document per object (block style; strings that
// YAML 1.1 would read as something else are quoted; multi-line text as literal blocks).
std::string to_yaml(const Manifests& manifests);
// A v1 List of the objects.
bj::object to_list(const Manifests& manifests);

}  // namespace vouch::admission
