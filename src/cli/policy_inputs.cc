// Policy and resource files, and the registry image verifier, for policy apply and admission scan.
#include "cli/policy_inputs.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "vouch/base/file.h"
#include "vouch/policy/document.h"
#include "vouch/policy/engine.h"
#include "vouch/verifiers/cosign.h"
#include "vouch/verifiers/image_policy.h"

namespace vouch::cli {

namespace bj = boost::json;
namespace fs = std::filesystem;

namespace {

bool is_yaml_or_json(const fs::path& p) {
  auto e = p.extension().string();
  return e == ".yaml" || e == ".yml" || e == ".json";
}

}  // namespace

Result<std::vector<fs::path>> expand_paths(const std::vector<std::string>& args) {
  std::vector<fs::path> out;
  for (const auto& a : args) {
    std::error_code ec;
    if (fs::is_directory(a, ec)) {
      std::vector<fs::path> files;
      for (auto it = fs::recursive_directory_iterator(a, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file() && is_yaml_or_json(it->path())) files.push_back(it->path());
      }
      std::sort(files.begin(), files.end());
      out.insert(out.end(), files.begin(), files.end());
    } else if (fs::exists(a, ec)) {
      out.emplace_back(a);
    } else {
      return not_found(fmt::format("{}: no such file or directory", a));
    }
  }
  return out;
}

Result<std::vector<policy::Policy>> load_policies(const std::vector<fs::path>& files) {
  std::vector<policy::Policy> out;
  for (const auto& f : files) {
    VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(f, kMaxPolicyInputBytes));
    VOUCH_ASSIGN_OR_RETURN(auto ps, policy::parse_policies(text, f.string()));
    for (auto& p : ps) out.push_back(std::move(p));
  }
  return out;
}

Result<std::vector<policy::PolicyException>> load_exceptions(const std::vector<std::string>& args) {
  std::vector<policy::PolicyException> out;
  if (args.empty()) return out;
  VOUCH_ASSIGN_OR_RETURN(auto files, expand_paths(args));
  for (const auto& f : files) {
    VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(f, kMaxPolicyInputBytes));
    VOUCH_ASSIGN_OR_RETURN(auto found, policy::parse_policy_exceptions(text, f.string()));
    for (auto& e : found) out.push_back(std::move(e));
  }
  if (out.empty()) return invalid_input(fmt::format("no PolicyException found in {}", fmt::join(args, ", ")));
  return out;
}

Result<std::vector<bj::value>> load_resources_at(const std::vector<std::string>& paths) {
  if (paths.empty()) return std::vector<bj::value>{};
  VOUCH_ASSIGN_OR_RETURN(auto files, expand_paths(paths));
  return load_resources(files);
}

Result<bj::value> read_policy_document(const fs::path& path) {
  VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(path, kMaxPolicyInputBytes));
  return policy::parse_document(text, path.string());
}

Result<std::vector<bj::value>> load_resources(const std::vector<fs::path>& files) {
  std::vector<bj::value> out;
  for (const auto& f : files) {
    VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(f, kMaxPolicyInputBytes));
    VOUCH_ASSIGN_OR_RETURN(auto docs, policy::parse_documents(text, f.string()));
    for (size_t i = 0; i < docs.size(); ++i) {
      auto& d = docs[i];
      if (!d.is_object()) return invalid_input(fmt::format("{}: document {}: expected an object", f.string(), i + 1));
      auto& o = d.get_object();
      // A List expands to its items.
      if (auto* k = o.if_contains("kind"); k && k->is_string() && k->get_string().ends_with("List")) {
        if (auto* items = o.if_contains("items"); items && items->is_array()) {
          for (auto& it : items->get_array()) out.push_back(it);
          continue;
        }
      }
      auto* kind = o.if_contains("kind");
      auto* api = o.if_contains("apiVersion");
      if (!kind || !kind->is_string() || kind->get_string().empty())
        return invalid_input(fmt::format("{}: document {}: kind: required", f.string(), i + 1));
      if (!api || !api->is_string() || api->get_string().empty())
        return invalid_input(fmt::format("{}: document {}: apiVersion: required", f.string(), i + 1));
      auto* meta = o.if_contains("metadata");
      if (!meta || !meta->is_object())
        return invalid_input(fmt::format("{}: document {}: metadata: expected an object", f.string(), i + 1));
      // As Kyverno's CLI loads resources: a namespaced kind without a namespace is in
      // "default", and the policies (CEL expressions included) see it there.
      if (!meta->get_object().contains("namespace"))
        if (auto ns = policy::resource_ref(d).ns; !ns.empty()) meta->get_object()["namespace"] = ns;
      out.push_back(std::move(d));
    }
  }
  return out;
}

Result<std::shared_ptr<policy::ImageVerifier>> make_image_verifier(bool allow_insecure_registry,
                                                                   const TrustedRootFlags& trust) {
  verifiers::CosignOptions v;
  v.store.allow_insecure = allow_insecure_registry;
  VOUCH_ASSIGN_OR_RETURN(v.trusted_material, trust.load());
  if (!v.trusted_material) {
    // Asked only when a rule needs trust: Sigstore's trusted root over TUF, as cosign and Kyverno get it.
    v.trusted_material_source = [trust] {
      return trust.load_or_tuf(true, std::chrono::steady_clock::now() + std::chrono::minutes(5));
    };
  }
  return verifiers::cosign_image_verifier(std::move(v));
}

Result<std::shared_ptr<policy::ImagePolicyVerifier>> make_image_policy_verifier(bool allow_insecure_registry,
                                                                                const TrustedRootFlags& trust) {
  verifiers::CosignOptions v;
  v.store.allow_insecure = allow_insecure_registry;
  VOUCH_ASSIGN_OR_RETURN(v.trusted_material, trust.load());
  if (!v.trusted_material) {
    v.trusted_material_source = [trust] {
      return trust.load_or_tuf(true, std::chrono::steady_clock::now() + std::chrono::minutes(5));
    };
  }
  return verifiers::image_policy_verifier(std::move(v));
}

}  // namespace vouch::cli
