// Fulcio's issuer configuration: the issuer types vouch implements and the JSON file that names them.
#include <set>

#include <fmt/format.h>

#include "vouch/base/json.h"
#include "vouch/ca/oidc.h"
#include "vouch/net/url_policy.h"

namespace vouch::ca {

std::string_view issuer_type_name(IssuerType type) {
  switch (type) {
    case IssuerType::kEmail: return "email";
    case IssuerType::kGithubWorkflow: return "github-workflow";
    case IssuerType::kUri: return "uri";
  }
  return "email";
}

Result<IssuerType> parse_issuer_type(std::string_view name) {
  for (IssuerType t : {IssuerType::kEmail, IssuerType::kGithubWorkflow, IssuerType::kUri})
    if (issuer_type_name(t) == name) return t;
  // Fulcio knows more (kubernetes, spiffe, gitlab-pipeline, buildkite-job, ...): refused by name
  // rather than issued as something else.
  return invalid_input(fmt::format("issuer type \"{}\" is not supported (supported: email, github-workflow, uri)", name));
}

namespace {

Status only_known_members(const json::Node& node, const std::set<std::string_view>& known) {
  for (const auto& member : node.raw().as_object())
    if (!known.count(member.key()))
      return node.error(fmt::format("unknown field \"{}\"", std::string_view(member.key())));
  return ok_status();
}

Result<IssuerConfig> parse_issuer(const json::Node& node, std::string_view key) {
  if (!node.is_object()) return node.error("must be an object");
  VOUCH_RETURN_IF_ERROR(only_known_members(node, {"IssuerURL", "ClientID", "Type", "CIProvider", "SubjectDomain"}));
  IssuerConfig issuer;
  issuer.issuer_url = std::string(key);
  if (auto url = node.find("IssuerURL")) {
    VOUCH_ASSIGN_OR_RETURN(issuer.issuer_url, url->string());
    if (issuer.issuer_url != key) return url->error(fmt::format("\"{}\" differs from its key \"{}\"", issuer.issuer_url, key));
  }
  if (auto client = node.find("ClientID")) {
    VOUCH_ASSIGN_OR_RETURN(issuer.client_id, client->string());
  }
  if (issuer.client_id.empty()) return node.error("ClientID is empty");
  VOUCH_ASSIGN_OR_RETURN(std::string type, node.get_string("Type"));
  // Fulcio's public configuration names GitHub Actions "ci-provider" with CIProvider
  // "github-workflow": the same mapping of claims as the "github-workflow" type.
  std::string ci_provider;
  if (auto provider = node.find("CIProvider")) {
    VOUCH_ASSIGN_OR_RETURN(ci_provider, provider->string());
  }
  if (type == "ci-provider") {
    if (ci_provider != "github-workflow")
      return node.error(fmt::format("CIProvider \"{}\" is not supported (supported: github-workflow)", ci_provider));
    type = ci_provider;
  } else if (!ci_provider.empty()) {
    return node.error(fmt::format("CIProvider is set but Type is \"{}\", not ci-provider", type));
  }
  auto parsed = parse_issuer_type(type);
  if (!parsed) return node.error(parsed.error().message);
  issuer.type = *parsed;
  if (auto domain = node.find("SubjectDomain")) {
    VOUCH_ASSIGN_OR_RETURN(issuer.subject_domain, domain->string());
  }
  if (issuer.type == IssuerType::kUri && issuer.subject_domain.empty())
    return node.error("a uri issuer needs SubjectDomain");
  if (issuer.type != IssuerType::kUri && !issuer.subject_domain.empty())
    return node.error(fmt::format("SubjectDomain applies to uri issuers only, not to a {} issuer", issuer_type_name(issuer.type)));
  auto origin = net::url_origin(issuer.issuer_url);
  if (!origin.ok()) return node.error(fmt::format("issuer URL: {}", origin.error().message));
  if (origin->scheme == "http" && !net::is_loopback_host(origin->host))
    return node.error(fmt::format("issuer URL \"{}\" is plain HTTP to a host other than 127.0.0.1, ::1 or localhost",
                                  issuer.issuer_url));
  return issuer;
}

}  // namespace

Result<std::vector<IssuerConfig>> parse_fulcio_config(std::string_view text) {
  VOUCH_ASSIGN_OR_RETURN(auto doc, json::parse(text));
  json::Node root = json::Node::root(doc);
  if (!root.is_object()) return root.error("must be an object");
  VOUCH_RETURN_IF_ERROR(only_known_members(root, {"OIDCIssuers", "MetaIssuers"}));
  if (root.has("MetaIssuers")) return root.error("MetaIssuers (wildcard issuers) are not supported");
  VOUCH_ASSIGN_OR_RETURN(json::Node issuers, root.get("OIDCIssuers"));
  if (!issuers.is_object()) return issuers.error("must be an object");
  std::vector<IssuerConfig> out;
  for (const auto& member : issuers.raw().as_object()) {
    json::Node node(&member.value(), fmt::format("{}.{}", issuers.path(), std::string_view(member.key())));
    VOUCH_ASSIGN_OR_RETURN(IssuerConfig issuer, parse_issuer(node, member.key()));
    out.push_back(std::move(issuer));
  }
  if (out.empty()) return issuers.error("names no issuer");
  return out;
}

std::string fulcio_config_json(const std::vector<IssuerConfig>& issuers) {
  boost::json::object by_url;
  for (const auto& issuer : issuers) {
    boost::json::object entry{{"IssuerURL", issuer.issuer_url},
                              {"ClientID", issuer.client_id},
                              {"Type", issuer_type_name(issuer.type)}};
    if (!issuer.subject_domain.empty()) entry["SubjectDomain"] = issuer.subject_domain;
    by_url[issuer.issuer_url] = std::move(entry);
  }
  return json::pretty(boost::json::object{{"OIDCIssuers", std::move(by_url)}});
}

}  // namespace vouch::ca
