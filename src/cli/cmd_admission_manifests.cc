// vouch admission manifests: the Kubernetes objects that deploy the admission webhook, with its
// serving certificate (made here, or reused from --tls-dir).
#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "vouch/admission/manifests.h"
#include "vouch/base/bytes.h"
#include "vouch/base/file.h"
#include "vouch/base/time.h"
#include "vouch/crypto/certificate_builder.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/keys.h"
#include "vouch/crypto/x509.h"
#include "vouch/policy/policy.h"

namespace vouch::cli {
namespace {

namespace fs = std::filesystem;

struct ManifestsFlags {
  std::vector<std::string> policies;
  std::string ns = "vouch";
  std::string image = std::string(admission::kDefaultImage);
  int replicas = 3;
  std::string tls_dir;
  std::string ca_file;
  bool no_secret = false;
  std::string output = "yaml";
};

// A ConfigMap holds at most 1 MiB, so no policy file can be larger.
constexpr size_t kMaxPolicyFileBytes = 1 << 20;
constexpr size_t kMaxPemBytes = 1 << 20;
constexpr UnixSeconds kDay = 86400;
constexpr UnixSeconds kCaLifetime = 10 * 365 * kDay;
constexpr UnixSeconds kServingLifetime = 365 * kDay;
// A serving certificate this close to its end is renewed rather than deployed.
constexpr UnixSeconds kRenewWithin = 30 * kDay;
// Certificates start a little in the past, for API servers whose clocks run behind.
constexpr UnixSeconds kBackdate = 300;

// ---------------------------------------------------------------- policies

bool is_policy_file_name(const fs::path& p) {
  auto e = p.extension().string();
  return e == ".yaml" || e == ".yml" || e == ".json";
}

// Reads one file; `explicit_file`: named on the command line, so it must hold a policy.
Result<std::optional<admission::PolicyFile>> read_policy_file(const fs::path& path, bool explicit_file) {
  VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(path, kMaxPolicyFileBytes));
  VOUCH_ASSIGN_OR_RETURN(auto policies, policy::parse_policies(text, path.string()));
  if (policies.empty()) {
    if (explicit_file) return invalid_input(fmt::format("{}: holds no ClusterPolicy or Policy", path.string()));
    return std::optional<admission::PolicyFile>();
  }
  return std::optional<admission::PolicyFile>(
      admission::PolicyFile{path.filename().string(), std::move(text), std::move(policies)});
}

// Every file named, and every .yaml, .yml and .json file below a directory named (in name order;
// hidden entries, such as a mounted ConfigMap's ..data, are skipped) that holds a policy.
Result<std::vector<admission::PolicyFile>> read_policy_files(const std::vector<std::string>& args) {
  std::vector<admission::PolicyFile> out;
  std::map<std::string, fs::path> keys;
  auto add = [&](const fs::path& path, bool explicit_file) -> Status {
    VOUCH_ASSIGN_OR_RETURN(auto file, read_policy_file(path, explicit_file));
    if (!file) return ok_status();
    if (auto [it, inserted] = keys.emplace(file->key, path); !inserted)
      return invalid_input(fmt::format("{} and {}: the ConfigMap holds one file per name; rename one of them",
                                       it->second.string(), path.string()));
    out.push_back(std::move(*file));
    return ok_status();
  };
  for (const auto& arg : args) {
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      std::vector<fs::path> files;
      for (auto it = fs::recursive_directory_iterator(arg, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        if (it->path().filename().string().starts_with(".")) {
          if (it->is_directory()) it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file() && is_policy_file_name(it->path())) files.push_back(it->path());
      }
      if (ec) return io_error(fmt::format("{}: {}", arg, ec.message()));
      std::sort(files.begin(), files.end());
      for (const auto& f : files) VOUCH_RETURN_IF_ERROR(add(f, false));
    } else if (fs::exists(arg, ec)) {
      VOUCH_RETURN_IF_ERROR(add(arg, true));
    } else {
      return not_found(fmt::format("{}: no such file or directory", arg));
    }
  }
  if (out.empty()) return invalid_input("--policies: no ClusterPolicy or Policy found");
  return out;
}

// ---------------------------------------------------------------- certificates

crypto::DistinguishedName ca_subject(std::string_view ns) {
  return {{"O", "vouch"}, {"CN", fmt::format("{} CA ({})", admission::kAppName, ns)}};
}

// An ECDSA P-256 CA (ten years, path length 0) and a serving certificate it issues for the
// service's DNS names (one year, serverAuth). The CA's key is used once and forgotten: a new
// serving certificate comes with a new CA, and applying the new manifests updates both sides.
Result<admission::ServingSecret> make_serving_certificate(std::string_view ns, UnixSeconds now) {
  VOUCH_ASSIGN_OR_RETURN(auto ca_key, crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256));
  crypto::CertificateTemplate ca;
  ca.subject = ca_subject(ns);
  ca.not_before = now - kBackdate;
  ca.not_after = now + kCaLifetime;
  ca.public_key = ca_key.public_key();
  ca.is_ca = true;
  ca.path_len = 0;
  ca.key_usage = {.digital_signature = false, .cert_sign = true, .crl_sign = true};
  auto ca_cert = crypto::sign_certificate(ca, ca_key);
  if (!ca_cert.ok()) return std::move(ca_cert).error().context("webhook CA");

  VOUCH_ASSIGN_OR_RETURN(auto key, crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256));
  const auto names = admission::service_dns_names(ns);
  crypto::CertificateTemplate leaf;
  leaf.subject = {{"CN", names.front()}};
  leaf.not_before = now - kBackdate;
  leaf.not_after = now + kServingLifetime;
  leaf.public_key = key.public_key();
  leaf.key_usage.digital_signature = true;
  leaf.server_auth_eku = true;
  leaf.subject_alt_names.dns_names = names;
  auto cert = crypto::sign_certificate(leaf, ca_key, *ca_cert);
  if (!cert.ok()) return std::move(cert).error().context("webhook serving certificate");
  return admission::ServingSecret{cert->pem(), key.pkcs8_pem(), ca_cert->pem()};
}

// DER of id-kp-serverAuth (1.3.6.1.5.5.7.3.1), as it stands in an extKeyUsage SEQUENCE.
constexpr uint8_t kServerAuthOid[] = {0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};

bool has_server_auth(const crypto::Certificate& cert) {
  auto eku = cert.extension("2.5.29.37");
  return eku && std::search(eku->begin(), eku->end(), std::begin(kServerAuthOid), std::end(kServerAuthOid)) != eku->end();
}

// The files in DIR serve this namespace's webhook for at least another 30 days: the key is the
// certificate's, the CA issued it, it names the service and is for TLS servers.
Status check_serving_certificate(const admission::ServingSecret& s, std::string_view ns, UnixSeconds now) {
  VOUCH_ASSIGN_OR_RETURN(auto ca, crypto::Certificate::from_pem(s.ca_pem));
  if (!ca.is_ca()) return invalid_input("ca.crt is not a CA certificate");
  VOUCH_ASSIGN_OR_RETURN(auto cert, crypto::Certificate::from_pem(s.cert_pem));
  VOUCH_ASSIGN_OR_RETURN(auto key, crypto::PrivateKey::from_pem(s.key_pem));
  if (!cert.public_key().equals(key.public_key())) return invalid_input("tls.key is not the key of tls.crt");
  auto chain = crypto::verify_chain(cert, {}, {ca}, now);
  if (!chain.ok()) return invalid_input(fmt::format("tls.crt does not verify against ca.crt now: {}", chain.error().message));
  if (!has_server_auth(cert)) return invalid_input("tls.crt is not for TLS servers (no serverAuth extended key usage)");
  const auto sans = cert.subject_alt_names().dns_names;
  for (const auto& name : admission::service_dns_names(ns))
    if (std::find(sans.begin(), sans.end(), name) == sans.end())
      return invalid_input(fmt::format("tls.crt does not name {} (it names: {})", name,
                                       sans.empty() ? "no DNS name" : fmt::format("{}", fmt::join(sans, ", "))));
  for (const auto& [what, c] : {std::pair<const char*, const crypto::Certificate*>{"tls.crt", &cert},
                                std::pair<const char*, const crypto::Certificate*>{"ca.crt", &ca}})
    if (c->not_after() < now + kRenewWithin)
      return invalid_input(fmt::format("{} expires on {}, within 30 days", what, format_rfc3339(c->not_after())));
  return ok_status();
}

// DIR's ca.crt, tls.crt and tls.key when all three are there (checked), or new ones written there.
Result<admission::ServingSecret> load_or_create_serving_certificate(const fs::path& dir, std::string_view ns,
                                                                    UnixSeconds now) {
  const fs::path ca = dir / "ca.crt", cert = dir / "tls.crt", key = dir / "tls.key";
  std::vector<std::string> present, missing;
  for (const auto& p : {ca, cert, key}) {
    std::error_code ec;
    (fs::exists(fs::symlink_status(p, ec)) ? present : missing).push_back(p.filename().string());
  }
  const std::string remedy = "remove ca.crt, tls.crt and tls.key to have new ones made";
  if (missing.empty()) {
    admission::ServingSecret s;
    VOUCH_ASSIGN_OR_RETURN(s.ca_pem, read_file(ca, kMaxPemBytes));
    VOUCH_ASSIGN_OR_RETURN(s.cert_pem, read_file(cert, kMaxPemBytes));
    VOUCH_ASSIGN_OR_RETURN(s.key_pem, read_file(key, kMaxPemBytes));
    Status ok = check_serving_certificate(s, ns, now);
    if (!ok.ok()) return invalid_input(fmt::format("--tls-dir {}: {}; {}", dir.string(), ok.error().message, remedy));
    return s;
  }
  if (!present.empty())
    return invalid_input(fmt::format("--tls-dir {}: has {} but not {}; {}", dir.string(), fmt::join(present, ", "),
                                     fmt::join(missing, ", "), remedy));
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return io_error(fmt::format("--tls-dir {}: {}", dir.string(), ec.message()));
    fs::permissions(dir, fs::perms::owner_all, ec);
  }
  VOUCH_ASSIGN_OR_RETURN(auto s, make_serving_certificate(ns, now));
  // ca.crt last: the three files are complete once it is there.
  VOUCH_RETURN_IF_ERROR(write_file_atomic(key, s.key_pem, 0600));
  VOUCH_RETURN_IF_ERROR(write_file_atomic(cert, s.cert_pem, 0644));
  VOUCH_RETURN_IF_ERROR(write_file_atomic(ca, s.ca_pem, 0644));
  return s;
}

// The CA certificates of --ca-file, re-encoded (nothing but the certificates reaches the caBundle).
Result<std::string> read_ca_file(const std::string& path) {
  VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(path, kMaxPemBytes));
  auto certs = crypto::Certificate::all_from_pem(text);
  if (!certs.ok()) return std::move(certs).error().context(fmt::format("--ca-file {}", path));
  if (certs->empty()) return invalid_input(fmt::format("--ca-file {}: no PEM certificate", path));
  std::string out;
  for (size_t i = 0; i < certs->size(); ++i) {
    if (!(*certs)[i].is_ca())
      return invalid_input(fmt::format("--ca-file {}: certificate {} ({}) is not a CA", path, i + 1, (*certs)[i].subject()));
    out += (*certs)[i].pem();
  }
  return out;
}

// What the pods load, hashed: a change to a policy or to the certificate rolls them.
std::string config_digest(const std::vector<admission::PolicyFile>& files,
                          const std::optional<admission::ServingSecret>& secret) {
  crypto::Hasher h(crypto::HashAlgorithm::kSha256);
  for (const auto& f : files) {
    h.update(as_bytes(fmt::format("{}:{}\n", f.key, f.contents.size())));
    h.update(as_bytes(f.contents));
  }
  if (secret) h.update(as_bytes(secret->cert_pem));
  return "sha256:" + hex_encode(h.finish());
}

Status run_manifests(const ManifestsFlags& f) {
  VOUCH_RETURN_IF_ERROR(admission::check_namespace(f.ns));
  if (f.no_secret && f.tls_dir.empty() && f.ca_file.empty())
    return invalid_input("--no-secret needs --ca-file (the CA that issues the Secret's certificate) or --tls-dir, "
                         "for the webhooks' caBundle");
  VOUCH_ASSIGN_OR_RETURN(auto files, read_policy_files(f.policies));

  const UnixSeconds now = now_unix();
  std::optional<admission::ServingSecret> serving;
  if (!f.tls_dir.empty()) {
    VOUCH_ASSIGN_OR_RETURN(serving, load_or_create_serving_certificate(f.tls_dir, f.ns, now));
  } else if (!f.no_secret) {
    VOUCH_ASSIGN_OR_RETURN(serving, make_serving_certificate(f.ns, now));
  }

  admission::ManifestOptions o;
  o.ns = f.ns;
  o.image = f.image;
  o.replicas = f.replicas;
  if (serving) o.ca_bundle_pem = serving->ca_pem;
  if (!f.ca_file.empty()) {
    VOUCH_ASSIGN_OR_RETURN(std::string extra, read_ca_file(f.ca_file));
    o.ca_bundle_pem += extra;
  }
  if (!f.no_secret) o.secret = serving;
  o.config_digest = config_digest(files, o.secret);
  VOUCH_ASSIGN_OR_RETURN(auto manifests, admission::build_manifests(files, o));

  if (f.no_secret)
    fmt::print(stderr,
               "note: the Secret {0} is not in the output; create it with: kubectl -n {1} create secret tls {0} "
               "--cert={2} --key={3}\n",
               admission::kTlsSecret, f.ns, f.tls_dir.empty() ? "tls.crt" : (fs::path(f.tls_dir) / "tls.crt").string(),
               f.tls_dir.empty() ? "tls.key" : (fs::path(f.tls_dir) / "tls.key").string());
  if (f.output == "json") {
    print_json(admission::to_list(manifests));
  } else {
    fmt::print("{}", admission::to_yaml(manifests));
  }
  return ok_status();
}

}  // namespace

void add_admission_manifests_command(CLI::App& admission, int& exit_code) {
  auto f = std::make_shared<ManifestsFlags>();
  auto* cmd = admission.add_subcommand(
      "manifests",
      "Print the Kubernetes objects that deploy the admission webhook (vouch admission serve) for the\n"
      "given policies: Namespace, ServiceAccount (no API access, no RBAC), the policies' ConfigMap, the\n"
      "serving certificate's Secret, Service, Deployment (--replicas, spread across nodes), a\n"
      "PodDisruptionBudget, and the Validating- and MutatingWebhookConfiguration derived from the\n"
      "policies as Kyverno derives its own. Apply them with `| kubectl apply -f -`.\n\n"
      "The serving certificate (ECDSA P-256, one year, from a ten-year CA of its own) is made at every\n"
      "run, or kept in --tls-dir and reused while it has more than 30 days to go. --no-secret leaves\n"
      "the Secret (and so every private key) out of the output; the caBundle then comes from --tls-dir\n"
      "or --ca-file.");
  cmd->add_option("--policies", f->policies, "Policy files, or directories of them (ClusterPolicy, Policy)")
      ->required()
      ->expected(1, -1);
  cmd->add_option("--namespace", f->ns, "Namespace to install into (a namespace of its own)")->capture_default_str();
  cmd->add_option("--image", f->image, "The vouch image (pin it by digest)")->capture_default_str();
  cmd->add_option("--replicas", f->replicas, "Replicas of the webhook server")->capture_default_str()->check(
      CLI::Range(1, 100));
  cmd->add_option("--tls-dir", f->tls_dir,
                  "Keep the serving certificate here (ca.crt, tls.crt, tls.key): reused while valid for 30 days "
                  "more, made when absent");
  cmd->add_option("--ca-file", f->ca_file,
                  "CA certificates (PEM) for the webhooks' caBundle: with --no-secret, the CA of a Secret made "
                  "elsewhere; else trusted beside the webhook's own CA (during a CA rotation)");
  cmd->add_flag("--no-secret", f->no_secret,
                "Leave the Secret out (no private key in the output); create it with kubectl create secret tls");
  add_output_flag(cmd, f->output, {"yaml", "json"}, "json: a v1 List");
  on_run(cmd, exit_code, [f] { return run_manifests(*f); });
}

}  // namespace vouch::cli
