// vouch trusted-root create and vouch signing-config create, as cosign's: the files that tell
// verifiers what to trust and signers where to go, built from service specifications
// ("url=…,certificate-chain=…,start-time=…"), from Sigstore's own over TUF, or from what running
// services serve.
#include <map>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "vouch/base/file.h"
#include "vouch/base/json.h"
#include "vouch/crypto/digest.h"
#include "vouch/net/http.h"
#include "vouch/sigstore/signing_config.h"
#include "vouch/sigstore/trusted_root.h"
#include "vouch/tuf/sigstore_trust.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;

using Spec = std::map<std::string, std::string, std::less<>>;

// cosign's comma-separated key=value list; every key must be one the flag knows.
Result<Spec> parse_spec(std::string_view flag, std::string_view text, std::initializer_list<std::string_view> known) {
  Spec spec;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string_view pair = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return invalid_input(fmt::format("{}: \"{}\" is not key=value", flag, pair));
    auto trim = [](std::string_view s) {
      while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
      while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
      return std::string(s);
    };
    std::string key = trim(pair.substr(0, eq));
    bool ok = false;
    for (auto k : known) ok = ok || k == key;
    if (!ok) {
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return invalid_input(fmt::format("{}: unknown key \"{}\" (known: {})", flag, key, list));
    }
    if (spec.count(key)) return invalid_input(fmt::format("{}: key \"{}\" given twice", flag, key));
    spec[key] = trim(pair.substr(eq + 1));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return spec;
}

std::optional<std::string> get(const Spec& spec, std::string_view key) {
  auto it = spec.find(key);
  if (it == spec.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

Result<std::optional<UnixSeconds>> time_key(std::string_view flag, const Spec& spec, std::string_view key) {
  auto text = get(spec, key);
  if (!text) return std::optional<UnixSeconds>();
  auto t = parse_rfc3339(*text);
  if (!t.ok()) return invalid_input(fmt::format("{}: {}: {}", flag, key, t.error().message));
  return std::optional<UnixSeconds>(*t);
}

struct Fetcher {
  net::Client client;
  explicit Fetcher(std::chrono::steady_clock::time_point deadline)
      : client([&] {
          net::ClientOptions o;
          o.deadline = deadline;
          o.max_retries = 2;
          return o;
        }()) {}
  Result<std::string> get(const std::string& url, std::string_view what) {
    net::Request r;
    r.url = url;
    auto response = client.send(r, 1 << 20);
    if (!response.ok()) return std::move(response).error().context(what);
    if (response->status != 200) return io_error(fmt::format("{}: {} answered HTTP {}", what, url, response->status));
    return std::move(response->body);
  }
};

std::string trim_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// ---- trusted-root create --------------------------------------------------------------------

struct TrustedRootCreateFlags {
  std::vector<std::string> fulcio, ctfe, rekor, tsa;
  bool with_default_services = false, no_default_fulcio = false, no_default_ctfe = false, no_default_rekor = false,
       no_default_tsa = false;
  std::string out;
  TimeoutFlag timeout;
};

Result<std::vector<crypto::Certificate>> chain_from(std::string_view flag, const Spec& spec, const std::string& served,
                                                    std::string_view served_what, Fetcher& fetch) {
  std::string pem;
  if (auto path = get(spec, "certificate-chain")) {
    VOUCH_ASSIGN_OR_RETURN(pem, read_file(*path));
  } else {
    VOUCH_ASSIGN_OR_RETURN(pem, fetch.get(served, served_what));
  }
  auto certs = crypto::Certificate::all_from_pem(pem);
  if (!certs.ok()) return std::move(certs).error().context(flag);
  return certs;
}

Result<sigstore::CertificateAuthority> fulcio_from_spec(const std::string& text, Fetcher& fetch) {
  VOUCH_ASSIGN_OR_RETURN(Spec spec, parse_spec("--fulcio", text, {"url", "certificate-chain", "start-time", "end-time"}));
  auto url = get(spec, "url");
  if (!url) return invalid_input("--fulcio: missing or empty required key 'url'");
  sigstore::CertificateAuthority ca;
  ca.uri = *url;
  if (get(spec, "certificate-chain")) {
    VOUCH_ASSIGN_OR_RETURN(ca.chain, chain_from("--fulcio", spec, "", "", fetch));
  } else {
    // The CA's own trust bundle, pinned as it is served now.
    VOUCH_ASSIGN_OR_RETURN(std::string body, fetch.get(trim_slash(*url) + "/api/v2/trustBundle", "Fulcio trust bundle"));
    auto doc = json::parse(body, {.max_bytes = 1 << 20, .max_depth = 8});
    if (!doc.ok()) return invalid_input(fmt::format("--fulcio: trust bundle of {}: {}", *url, doc.error().message));
    json::Node root = json::Node::root(*doc);
    VOUCH_ASSIGN_OR_RETURN(json::Node chains, root.get("chains"));
    VOUCH_ASSIGN_OR_RETURN(auto list, chains.array());
    if (list.size() != 1) return invalid_input(fmt::format("--fulcio: {} serves {} chains; name one with certificate-chain=", *url, list.size()));
    VOUCH_ASSIGN_OR_RETURN(json::Node certs, list[0].get("certificates"));
    VOUCH_ASSIGN_OR_RETURN(auto pems, certs.array());
    for (const auto& p : pems) {
      VOUCH_ASSIGN_OR_RETURN(std::string pem, p.string());
      VOUCH_ASSIGN_OR_RETURN(crypto::Certificate c, crypto::Certificate::from_pem(pem));
      ca.chain.push_back(std::move(c));
    }
  }
  if (ca.chain.empty()) return invalid_input("--fulcio: the certificate chain is empty");
  VOUCH_ASSIGN_OR_RETURN(auto start, time_key("--fulcio", spec, "start-time"));
  VOUCH_ASSIGN_OR_RETURN(ca.valid_for.end, time_key("--fulcio", spec, "end-time"));
  ca.valid_for.start = start.value_or(ca.chain.back().not_before());
  return ca;
}

Result<sigstore::CertificateAuthority> tsa_from_spec(const std::string& text, Fetcher& fetch) {
  VOUCH_ASSIGN_OR_RETURN(Spec spec, parse_spec("--tsa", text, {"url", "certificate-chain", "start-time", "end-time"}));
  auto url = get(spec, "url");
  if (!url) return invalid_input("--tsa: missing or empty required key 'url'");
  sigstore::CertificateAuthority tsa;
  tsa.uri = *url;
  VOUCH_ASSIGN_OR_RETURN(tsa.chain, chain_from("--tsa", spec, trim_slash(*url) + "/certchain", "TSA certificate chain", fetch));
  if (tsa.chain.front().is_ca()) return invalid_input("--tsa: the first certificate in the chain must be the TSA's leaf");
  VOUCH_ASSIGN_OR_RETURN(auto start, time_key("--tsa", spec, "start-time"));
  VOUCH_ASSIGN_OR_RETURN(tsa.valid_for.end, time_key("--tsa", spec, "end-time"));
  tsa.valid_for.start = start.value_or(tsa.chain.front().not_before());
  return tsa;
}

// --rekor and --ctfe: a log's key and the window in which it is trusted. A Rekor log's key may
// be taken from the log itself (public-key= omitted), valid from its first entry.
Result<sigstore::LogInstance> log_from_spec(std::string_view flag, const std::string& text, bool rekor, Fetcher& fetch) {
  VOUCH_ASSIGN_OR_RETURN(Spec spec, parse_spec(flag, text, {"url", "public-key", "start-time", "end-time", "origin"}));
  auto url = get(spec, "url");
  if (!url) return invalid_input(fmt::format("{}: missing or empty required key 'url'", flag));
  if (get(spec, "origin"))
    return invalid_input(fmt::format("{}: origin (checkpoint IDs of Rekor v2 and static CT logs) is not supported", flag));
  std::string pem;
  if (auto path = get(spec, "public-key")) {
    VOUCH_ASSIGN_OR_RETURN(pem, read_file(*path));
  } else if (rekor) {
    VOUCH_ASSIGN_OR_RETURN(pem, fetch.get(trim_slash(*url) + "/api/v1/log/publicKey", "Rekor public key"));
  } else {
    return invalid_input(fmt::format("{}: missing or empty required key 'public-key'", flag));
  }
  auto key = crypto::PublicKey::from_pem(pem);
  if (!key.ok()) return std::move(key).error().context(fmt::format("{}: public-key", flag));
  sigstore::LogInstance log;
  log.base_url = *url;
  VOUCH_ASSIGN_OR_RETURN(log.key_details, sigstore::key_details_for(*key));
  log.log_id = crypto::sha256(key->der());
  log.key = *key;
  VOUCH_ASSIGN_OR_RETURN(auto start, time_key(flag, spec, "start-time"));
  if (!start && !(rekor && !get(spec, "public-key")))
    return invalid_input(fmt::format("{}: missing or empty required key 'start-time'", flag));
  if (!start) {
    // Pinned from the running log: valid from its first entry (now, for an empty log).
    start = now_unix();
    VOUCH_ASSIGN_OR_RETURN(std::string info, fetch.get(trim_slash(*url) + "/api/v1/log", "Rekor log info"));
    auto doc = json::parse(info, {.max_bytes = 1 << 20, .max_depth = 8});
    if (doc.ok() && doc->is_object()) {
      json::Node n = json::Node::root(*doc);
      auto size = n.get_int64("treeSize");
      if (size.ok() && *size > 0) {
        VOUCH_ASSIGN_OR_RETURN(std::string entry, fetch.get(trim_slash(*url) + "/api/v1/log/entries?logIndex=0", "Rekor entry 0"));
        auto e = json::parse(entry, {.max_bytes = 8 << 20, .max_depth = 16});
        if (e.ok() && e->is_object() && !e->as_object().empty()) {
          json::Node first(&e->as_object().begin()->value(), "entry");
          auto t = first.get_int64("integratedTime");
          if (t.ok()) start = *t;
        }
      }
    }
  }
  log.valid_for.start = *start;
  VOUCH_ASSIGN_OR_RETURN(log.valid_for.end, time_key(flag, spec, "end-time"));
  return log;
}

Status write_or_print(const std::string& out, const bj::object& doc) {
  std::string text = json::pretty(doc) + "\n";
  if (out.empty()) {
    fmt::print("{}", text);
    return ok_status();
  }
  return write_file_atomic(out, text);
}

Status trusted_root_create(const TrustedRootCreateFlags& f) {
  Fetcher fetch(f.timeout.deadline());
  sigstore::TrustedRoot root;
  if (f.with_default_services) {
    net::ClientOptions http;
    http.deadline = f.timeout.deadline();
    VOUCH_ASSIGN_OR_RETURN(auto trust, tuf::sigstore_trust(http));
    VOUCH_ASSIGN_OR_RETURN(root, sigstore::parse_trusted_root(trust.trusted_root));
    if (f.no_default_fulcio || !f.fulcio.empty()) root.certificate_authorities.clear();
    if (f.no_default_ctfe || !f.ctfe.empty()) root.ctlogs.clear();
    if (f.no_default_rekor || !f.rekor.empty()) root.tlogs.clear();
    if (f.no_default_tsa || !f.tsa.empty()) root.timestamp_authorities.clear();
  } else if (f.no_default_fulcio || f.no_default_ctfe || f.no_default_rekor || f.no_default_tsa) {
    return invalid_input("--no-default-* apply to --with-default-services only");
  }
  for (const auto& s : f.fulcio) {
    VOUCH_ASSIGN_OR_RETURN(auto ca, fulcio_from_spec(s, fetch));
    root.certificate_authorities.push_back(std::move(ca));
  }
  for (const auto& s : f.ctfe) {
    VOUCH_ASSIGN_OR_RETURN(auto log, log_from_spec("--ctfe", s, false, fetch));
    root.ctlogs.push_back(std::move(log));
  }
  for (const auto& s : f.rekor) {
    VOUCH_ASSIGN_OR_RETURN(auto log, log_from_spec("--rekor", s, true, fetch));
    root.tlogs.push_back(std::move(log));
  }
  for (const auto& s : f.tsa) {
    VOUCH_ASSIGN_OR_RETURN(auto tsa, tsa_from_spec(s, fetch));
    root.timestamp_authorities.push_back(std::move(tsa));
  }
  if (root.certificate_authorities.empty() && root.tlogs.empty() && root.ctlogs.empty() && root.timestamp_authorities.empty())
    return invalid_input("the trusted root would be empty: give --fulcio, --rekor, --ctfe, --tsa or --with-default-services");
  bj::object doc = sigstore::trusted_root_json(root);
  // What is written must read back as a trusted root (chains verified, keys parsed).
  auto check = sigstore::parse_trusted_root(json::serialize(doc));
  if (!check.ok()) return std::move(check).error().context("the trusted root made");
  return write_or_print(f.out, doc);
}

// ---- signing-config create ------------------------------------------------------------------

struct SigningConfigCreateFlags {
  std::vector<std::string> fulcio, rekor, oidc, tsa;
  std::string rekor_config, tsa_config, base_config, out;
  bool with_default_services = false, no_default_fulcio = false, no_default_rekor = false, no_default_oidc = false,
       no_default_tsa = false;
  TimeoutFlag timeout;
};

Result<sigstore::Service> service_from_spec(std::string_view flag, const std::string& text) {
  VOUCH_ASSIGN_OR_RETURN(Spec spec, parse_spec(flag, text, {"url", "api-version", "start-time", "end-time", "operator"}));
  for (std::string_view key : {"url", "api-version", "start-time", "operator"})
    if (!get(spec, key)) return invalid_input(fmt::format("{}: missing or empty required key '{}'", flag, key));
  sigstore::Service s;
  s.url = *get(spec, "url");
  const std::string version = *get(spec, "api-version");
  if (version.empty() || version.size() > 3 || version.find_first_not_of("0123456789") != std::string::npos)
    return invalid_input(fmt::format("{}: api-version \"{}\" is not an integer", flag, version));
  s.major_api_version = static_cast<uint32_t>(std::stoul(version));
  VOUCH_ASSIGN_OR_RETURN(auto start, time_key(flag, spec, "start-time"));
  s.valid_for.start = *start;
  VOUCH_ASSIGN_OR_RETURN(s.valid_for.end, time_key(flag, spec, "end-time"));
  s.operator_name = *get(spec, "operator");
  return s;
}

Result<sigstore::ServiceSelection> selection(std::string_view flag, const std::string& text) {
  sigstore::ServiceSelection s;
  if (text == "ANY") {
    s.selector = sigstore::ServiceSelection::Selector::kAny;
  } else if (text == "ALL") {
    s.selector = sigstore::ServiceSelection::Selector::kAll;
  } else if (text.rfind("EXACT:", 0) == 0 && text.size() > 6 && text.size() < 10 &&
             text.find_first_not_of("0123456789", 6) == std::string::npos) {
    s.selector = sigstore::ServiceSelection::Selector::kExact;
    s.count = static_cast<uint32_t>(std::stoul(text.substr(6)));
    if (s.count == 0) return invalid_input(fmt::format("{}: EXACT needs a count of at least 1", flag));
  } else {
    return invalid_input(fmt::format("{}: \"{}\" is not ANY, ALL or EXACT:<count>", flag, text));
  }
  return s;
}

Status signing_config_create(const SigningConfigCreateFlags& f) {
  if (!f.base_config.empty() && f.with_default_services)
    return invalid_input("--base-config and --with-default-services are exclusive");
  sigstore::SigningConfig config;
  const bool defaults = f.with_default_services || !f.base_config.empty();
  if (!f.base_config.empty()) {
    VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(f.base_config, 1 << 20));
    auto parsed = sigstore::parse_signing_config(text);
    if (!parsed.ok()) return std::move(parsed).error().context(f.base_config);
    config = std::move(*parsed);
  } else if (f.with_default_services) {
    net::ClientOptions http;
    http.deadline = f.timeout.deadline();
    VOUCH_ASSIGN_OR_RETURN(auto trust, tuf::sigstore_trust(http));
    if (!trust.signing_config) return not_found(fmt::format("the TUF repository {} has no signing config", trust.mirror));
    VOUCH_ASSIGN_OR_RETURN(config, sigstore::parse_signing_config(*trust.signing_config));
  }
  if (!defaults && (f.no_default_fulcio || f.no_default_rekor || f.no_default_oidc || f.no_default_tsa))
    return invalid_input("--no-default-* apply to --with-default-services or --base-config only");
  if (f.no_default_fulcio || !f.fulcio.empty()) config.ca_urls.clear();
  if (f.no_default_oidc || !f.oidc.empty()) config.oidc_urls.clear();
  if (f.no_default_rekor || !f.rekor.empty()) config.rekor_tlog_urls.clear();
  if (f.no_default_tsa || !f.tsa.empty()) config.tsa_urls.clear();
  for (const auto& s : f.fulcio) {
    VOUCH_ASSIGN_OR_RETURN(auto svc, service_from_spec("--fulcio", s));
    config.ca_urls.push_back(std::move(svc));
  }
  for (const auto& s : f.oidc) {
    VOUCH_ASSIGN_OR_RETURN(auto svc, service_from_spec("--oidc-provider", s));
    config.oidc_urls.push_back(std::move(svc));
  }
  for (const auto& s : f.rekor) {
    VOUCH_ASSIGN_OR_RETURN(auto svc, service_from_spec("--rekor", s));
    config.rekor_tlog_urls.push_back(std::move(svc));
  }
  for (const auto& s : f.tsa) {
    VOUCH_ASSIGN_OR_RETURN(auto svc, service_from_spec("--tsa", s));
    config.tsa_urls.push_back(std::move(svc));
  }
  if (!f.rekor.empty() && f.rekor_config.empty()) return invalid_input("--rekor-config is required with --rekor");
  if (!f.tsa.empty() && f.tsa_config.empty()) return invalid_input("--tsa-config is required with --tsa");
  if (!f.rekor_config.empty()) {
    VOUCH_ASSIGN_OR_RETURN(config.rekor_tlog_config, selection("--rekor-config", f.rekor_config));
  }
  if (!f.tsa_config.empty()) {
    VOUCH_ASSIGN_OR_RETURN(config.tsa_config, selection("--tsa-config", f.tsa_config));
  }
  bj::object doc = sigstore::signing_config_json(config);
  auto check = sigstore::parse_signing_config(json::serialize(doc));
  if (!check.ok()) return std::move(check).error().context("the signing config made");
  return write_or_print(f.out, doc);
}

}  // namespace

void register_trust_commands(CLI::App& app, int& exit_code) {
  {
    auto* group = app.add_subcommand("trusted-root", "Trusted roots (trusted_root.json), as cosign's trusted-root");
    group->require_subcommand(1);
    auto f = std::make_shared<TrustedRootCreateFlags>();
    auto* create = group->add_subcommand(
        "create",
        "Write a trusted root naming the certificate authorities, transparency logs, CT logs and timestamp\n"
        "authorities to trust, each with the time from which it is trusted. Specifications are cosign's\n"
        "comma-separated key=value lists. Where a running service can say it, a missing file is fetched\n"
        "and pinned: --fulcio without certificate-chain takes URL/api/v2/trustBundle, --tsa without\n"
        "certificate-chain takes URL/certchain, --rekor without public-key takes URL/api/v1/log/publicKey\n"
        "(trusted from the log's first entry). Check what was pinned against the operator's before\n"
        "relying on it.");
    create->add_option("--fulcio", f->fulcio, "CA: url, certificate-chain (PEM, intermediates then root); optional start-time, end-time (RFC 3339)");
    create->add_option("--ctfe", f->ctfe, "CT log: url, public-key (PEM), start-time; optional end-time");
    create->add_option("--rekor", f->rekor, "Transparency log: url, public-key (PEM), start-time; optional end-time");
    create->add_option("--tsa", f->tsa, "Timestamp authority: url, certificate-chain (PEM, leaf first); optional start-time, end-time");
    create->add_flag("--with-default-services", f->with_default_services,
                     "Start from Sigstore's trusted root over TUF; a service flag replaces that kind's defaults");
    create->add_flag("--no-default-fulcio", f->no_default_fulcio, "Without Sigstore's certificate authorities");
    create->add_flag("--no-default-ctfe", f->no_default_ctfe, "Without Sigstore's CT logs");
    create->add_flag("--no-default-rekor", f->no_default_rekor, "Without Sigstore's transparency logs");
    create->add_flag("--no-default-tsa", f->no_default_tsa, "Without Sigstore's timestamp authorities");
    create->add_option("--out", f->out, "Write the trusted root here (default: standard output)");
    f->timeout.add(create);
    on_run(create, exit_code, [f] { return trusted_root_create(*f); });
  }
  {
    auto* group = app.add_subcommand("signing-config", "Signing configs (SigningConfig v0.2), as cosign's signing-config");
    group->require_subcommand(1);
    auto f = std::make_shared<SigningConfigCreateFlags>();
    auto* create = group->add_subcommand(
        "create",
        "Write a SigningConfig v0.2 naming the CA, OIDC provider, transparency logs and timestamp\n"
        "authorities a keyless signer uses (sign --signing-config FILE). Each service is cosign's\n"
        "comma-separated list: url, api-version (integer), start-time (RFC 3339), operator; optional end-time.");
    create->add_option("--fulcio", f->fulcio, "A certificate authority (repeatable)");
    create->add_option("--rekor", f->rekor, "A transparency log (repeatable; needs --rekor-config)");
    create->add_option("--oidc-provider", f->oidc, "An OIDC provider (repeatable)");
    create->add_option("--tsa", f->tsa, "A timestamp authority (repeatable; needs --tsa-config)");
    create->add_option("--rekor-config", f->rekor_config, "Which logs a signer uses: ANY, ALL or EXACT:<count>");
    create->add_option("--tsa-config", f->tsa_config, "Which timestamp authorities a signer uses: ANY, ALL or EXACT:<count>");
    create->add_option("--base-config", f->base_config, "Start from this signing config; service flags replace its services");
    create->add_flag("--with-default-services", f->with_default_services,
                     "Start from Sigstore's signing config over TUF; service flags replace its services");
    create->add_flag("--no-default-fulcio", f->no_default_fulcio, "Without the base's certificate authorities");
    create->add_flag("--no-default-rekor", f->no_default_rekor, "Without the base's transparency logs");
    create->add_flag("--no-default-oidc", f->no_default_oidc, "Without the base's OIDC providers");
    create->add_flag("--no-default-tsa", f->no_default_tsa, "Without the base's timestamp authorities");
    create->add_option("--out", f->out, "Write the signing config here (default: standard output)");
    f->timeout.add(create);
    on_run(create, exit_code, [f] { return signing_config_create(*f); });
  }
}

}  // namespace vouch::cli
