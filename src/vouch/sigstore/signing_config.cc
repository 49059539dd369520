#include "vouch/sigstore/signing_config.h"

#include <algorithm>
#include <set>

#include "vouch/base/json.h"

namespace vouch::sigstore {
namespace {

namespace bj = boost::json;
using json::Node;

Status only_members(const Node& n, const std::set<std::string_view>& known) {
  if (!n.is_object()) return n.error("expected an object");
  for (const auto& m : n.raw().as_object())
    if (!known.count(m.key())) return n.error(fmt::format("unknown field \"{}\"", std::string_view(m.key())));
  return ok_status();
}

Result<UnixSeconds> parse_time(const Node& n) {
  VOUCH_ASSIGN_OR_RETURN(std::string text, n.string());
  auto t = parse_rfc3339(text);
  if (!t.ok()) return n.error(t.error().message);
  return *t;
}

Result<Service> parse_service(const Node& n) {
  VOUCH_RETURN_IF_ERROR(only_members(n, {"url", "majorApiVersion", "validFor", "operator"}));
  Service s;
  VOUCH_ASSIGN_OR_RETURN(s.url, n.get_string("url"));
  if (!s.url.starts_with("https://") && !s.url.starts_with("http://"))
    return n.error(fmt::format("url \"{}\" is not an http(s) URL", s.url));
  VOUCH_ASSIGN_OR_RETURN(Node version, n.get("majorApiVersion"));
  VOUCH_ASSIGN_OR_RETURN(int64_t v, version.int64());
  if (v < 1 || v > 0xffffffff) return version.error("must be a positive API version");
  s.major_api_version = static_cast<uint32_t>(v);
  // A service without a start would be in service for all of the past: refuse it, as the
  // trusted root's validity windows are refused.
  VOUCH_ASSIGN_OR_RETURN(Node valid, n.get("validFor"));
  VOUCH_RETURN_IF_ERROR(only_members(valid, {"start", "end"}));
  VOUCH_ASSIGN_OR_RETURN(Node start, valid.get("start"));
  VOUCH_ASSIGN_OR_RETURN(s.valid_for.start, parse_time(start));
  if (auto end = valid.find("end")) {
    VOUCH_ASSIGN_OR_RETURN(UnixSeconds e, parse_time(*end));
    if (e < s.valid_for.start) return valid.error("end is before start");
    s.valid_for.end = e;
  }
  if (auto op = n.find("operator")) {
    VOUCH_ASSIGN_OR_RETURN(s.operator_name, op->string());
  }
  return s;
}

Result<std::vector<Service>> parse_services(const Node& root, std::string_view key) {
  std::vector<Service> out;
  auto list = root.find(key);
  if (!list) return out;
  VOUCH_ASSIGN_OR_RETURN(std::vector<Node> items, list->array());
  for (const Node& item : items) {
    VOUCH_ASSIGN_OR_RETURN(Service s, parse_service(item));
    out.push_back(std::move(s));
  }
  return out;
}

Result<ServiceSelection> parse_selection(const Node& root, std::string_view key) {
  ServiceSelection sel;
  auto n = root.find(key);
  if (!n) return sel;
  VOUCH_RETURN_IF_ERROR(only_members(*n, {"selector", "count"}));
  VOUCH_ASSIGN_OR_RETURN(std::string selector, n->get_string("selector"));
  if (selector == "ALL") sel.selector = ServiceSelection::Selector::kAll;
  else if (selector == "ANY") sel.selector = ServiceSelection::Selector::kAny;
  else if (selector == "EXACT") sel.selector = ServiceSelection::Selector::kExact;
  else return n->error(fmt::format("selector \"{}\" is not ALL, ANY or EXACT", selector));
  if (auto count = n->find("count")) {
    VOUCH_ASSIGN_OR_RETURN(int64_t c, count->int64());
    if (c < 1 || c > 0xffffffff) return count->error("must be a positive count");
    sel.count = static_cast<uint32_t>(c);
  }
  if (sel.selector == ServiceSelection::Selector::kExact && sel.count == 0) return n->error("EXACT needs a count");
  return sel;
}

bj::object service_json(const Service& s) {
  bj::object valid{{"start", format_rfc3339(s.valid_for.start)}};
  if (s.valid_for.end) valid["end"] = format_rfc3339(*s.valid_for.end);
  bj::object o{{"url", s.url}, {"majorApiVersion", s.major_api_version}, {"validFor", std::move(valid)}};
  if (!s.operator_name.empty()) o["operator"] = s.operator_name;
  return o;
}

bj::array services_json(const std::vector<Service>& list) {
  bj::array out;
  for (const auto& s : list) out.push_back(service_json(s));
  return out;
}

bj::object selection_json(const ServiceSelection& sel) {
  const char* name = sel.selector == ServiceSelection::Selector::kAll   ? "ALL"
                     : sel.selector == ServiceSelection::Selector::kAny ? "ANY"
                                                                        : "EXACT";
  bj::object o{{"selector", name}};
  if (sel.selector == ServiceSelection::Selector::kExact) o["count"] = sel.count;
  return o;
}

// Services in service at `now` speaking the newest API version any of them shares with the
// client, newest start first.
std::vector<Service> qualifying(const std::vector<Service>& services, const std::vector<uint32_t>& api_versions,
                                UnixSeconds now) {
  std::vector<Service> usable;
  for (const auto& s : services)
    if (s.valid_for.contains(now) &&
        std::find(api_versions.begin(), api_versions.end(), s.major_api_version) != api_versions.end())
      usable.push_back(s);
  if (usable.empty()) return usable;
  uint32_t newest = 0;
  for (const auto& s : usable) newest = std::max(newest, s.major_api_version);
  std::erase_if(usable, [&](const Service& s) { return s.major_api_version != newest; });
  std::stable_sort(usable.begin(), usable.end(),
                   [](const Service& a, const Service& b) { return a.valid_for.start > b.valid_for.start; });
  return usable;
}

}  // namespace

Result<SigningConfig> parse_signing_config(std::string_view text) {
  VOUCH_ASSIGN_OR_RETURN(bj::value doc, json::parse(text, {.max_bytes = 1 << 20, .max_depth = 16}));
  Node root = Node::root(doc);
  VOUCH_RETURN_IF_ERROR(only_members(root, {"mediaType", "caUrls", "oidcUrls", "rekorTlogUrls", "rekorTlogConfig",
                                             "tsaUrls", "tsaConfig"}));
  SigningConfig c;
  VOUCH_ASSIGN_OR_RETURN(c.media_type, root.get_string("mediaType"));
  if (c.media_type != kSigningConfigMediaType)
    return invalid_input(fmt::format("signing config: media type \"{}\" is not {}", c.media_type, kSigningConfigMediaType));
  VOUCH_ASSIGN_OR_RETURN(c.ca_urls, parse_services(root, "caUrls"));
  VOUCH_ASSIGN_OR_RETURN(c.oidc_urls, parse_services(root, "oidcUrls"));
  VOUCH_ASSIGN_OR_RETURN(c.rekor_tlog_urls, parse_services(root, "rekorTlogUrls"));
  VOUCH_ASSIGN_OR_RETURN(c.rekor_tlog_config, parse_selection(root, "rekorTlogConfig"));
  VOUCH_ASSIGN_OR_RETURN(c.tsa_urls, parse_services(root, "tsaUrls"));
  VOUCH_ASSIGN_OR_RETURN(c.tsa_config, parse_selection(root, "tsaConfig"));
  return c;
}

bj::object signing_config_json(const SigningConfig& c) {
  return bj::object{{"mediaType", c.media_type},
                    {"caUrls", services_json(c.ca_urls)},
                    {"oidcUrls", services_json(c.oidc_urls)},
                    {"rekorTlogUrls", services_json(c.rekor_tlog_urls)},
                    {"tsaUrls", services_json(c.tsa_urls)},
                    {"rekorTlogConfig", selection_json(c.rekor_tlog_config)},
                    {"tsaConfig", selection_json(c.tsa_config)}};
}

Result<Service> select_service(const std::vector<Service>& services, const std::vector<uint32_t>& api_versions,
                               UnixSeconds now, std::string_view what) {
  auto usable = qualifying(services, api_versions, now);
  if (usable.empty())
    return not_found(fmt::format("signing config: no {} in service now with a supported API version (of {} listed)",
                                 what, services.size()));
  return usable.front();
}

Result<std::vector<Service>> select_services(const std::vector<Service>& services, const ServiceSelection& selection,
                                             const std::vector<uint32_t>& api_versions, UnixSeconds now,
                                             std::string_view what) {
  if (services.empty()) return std::vector<Service>{};
  auto usable = qualifying(services, api_versions, now);
  switch (selection.selector) {
    case ServiceSelection::Selector::kAll:
      if (usable.empty()) break;
      return usable;
    case ServiceSelection::Selector::kAny:
      if (usable.empty()) break;
      usable.resize(1);
      return usable;
    case ServiceSelection::Selector::kExact:
      if (usable.size() < selection.count)
        return not_found(fmt::format("signing config: {} {} wanted (EXACT), {} in service with a supported API version",
                                     selection.count, what, usable.size()));
      usable.resize(selection.count);
      return usable;
  }
  return not_found(fmt::format("signing config: no {} in service now with a supported API version (of {} listed)",
                               what, services.size()));
}

}  // namespace vouch::sigstore
