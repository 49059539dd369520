#include "vouch/notation/trust_policy.h"

#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>
#include <set>
#include <system_error>

#include <fmt/format.h>

#include "vouch/base/file.h"
#include "vouch/base/json.h"

namespace vouch::notation {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;

constexpr size_t kMaxCertificateFileBytes = 1024 * 1024;
constexpr size_t kMaxStoreFiles = 1000;
constexpr std::string_view kX509Subject = "x509.subject";

Result<TrustStoreType> trust_store_type_from_name(std::string_view name) {
  if (name == "ca") return TrustStoreType::kCa;
  if (name == "signingAuthority") return TrustStoreType::kSigningAuthority;
  if (name == "tsa") return TrustStoreType::kTsa;
  return invalid_input(fmt::format("unknown trust store type \"{}\"", name));
}

bool valid_store_name(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

Result<std::vector<crypto::Certificate>> parse_certificates(std::string_view data) {
  if (data.find("-----BEGIN") != std::string_view::npos) return crypto::Certificate::all_from_pem(data);
  std::vector<crypto::Certificate> out;
  ByteView rest = as_bytes(data);
  while (!rest.empty()) {
    const unsigned char* p = rest.data();
    X509* x = d2i_X509(nullptr, &p, static_cast<long>(rest.size()));
    if (!x) return invalid_input("neither PEM nor DER certificates");
    size_t used = static_cast<size_t>(p - rest.data());
    X509_free(x);
    VOUCH_ASSIGN_OR_RETURN(auto cert, crypto::Certificate::from_der(rest.first(used)));
    out.push_back(std::move(cert));
    rest = rest.subspan(used);
  }
  if (out.empty()) return invalid_input("no certificate in the file");
  return out;
}

std::string unescape_error(std::string_view dn) { return fmt::format("distinguished name \"{}\" is malformed", dn); }

}  // namespace

std::string_view trust_store_type_name(TrustStoreType type) {
  switch (type) {
    case TrustStoreType::kCa: return "ca";
    case TrustStoreType::kSigningAuthority: return "signingAuthority";
    case TrustStoreType::kTsa: return "tsa";
  }
  return "?";
}

Result<std::vector<crypto::Certificate>> read_certificate_file(const fs::path& path) {
  VOUCH_ASSIGN_OR_RETURN(auto data, read_regular_file_no_follow(path, kMaxCertificateFileBytes));
  auto certs = parse_certificates(data);
  if (!certs.ok()) return invalid_input(fmt::format("{}: {}", path.string(), certs.error().message));
  return *certs;
}

TrustStore TrustStore::directory(fs::path root) {
  TrustStore store;
  store.root_ = std::move(root);
  return store;
}

TrustStore TrustStore::in_memory(std::map<std::pair<TrustStoreType, std::string>, std::vector<crypto::Certificate>> stores) {
  TrustStore store;
  store.stores_ = std::move(stores);
  return store;
}

Result<std::vector<crypto::Certificate>> TrustStore::certificates(TrustStoreType type, const std::string& name) const {
  const std::string label = fmt::format("trust store \"{}\" of type \"{}\"", name, trust_store_type_name(type));
  if (!root_) {
    auto it = stores_.find({type, name});
    if (it == stores_.end()) return not_found(fmt::format("the {} does not exist", label));
    return it->second;
  }
  if (!valid_store_name(name)) return invalid_input(fmt::format("{}: invalid name", label));
  const fs::path dir = *root_ / "x509" / std::string(trust_store_type_name(type)) / name;
  std::error_code ec;
  auto status = fs::symlink_status(dir, ec);
  if (ec || !fs::exists(status)) return not_found(fmt::format("the {} does not exist", label));
  if (fs::is_symlink(status)) return invalid_input(fmt::format("{} is a symbolic link", label));
  if (!fs::is_directory(status)) return invalid_input(fmt::format("{} is not a directory", label));
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (files.size() >= kMaxStoreFiles) return invalid_input(fmt::format("{} holds more than {} files", label, kMaxStoreFiles));
    files.push_back(it->path());
  }
  if (ec) return io_error(fmt::format("{}: {}", label, ec.message()));
  std::sort(files.begin(), files.end());
  std::vector<crypto::Certificate> out;
  for (const auto& file : files) {
    const std::string file_name = file.filename().string();
    auto st = fs::symlink_status(file, ec);
    if (ec || !fs::is_regular_file(st))
      return invalid_input(fmt::format("{}: \"{}\" is not a regular file (symbolic links and directories are not allowed)",
                                       label, file_name));
    auto certs = read_certificate_file(file);
    if (!certs.ok())
      return invalid_input(fmt::format("failed to read the trusted certificate {} in {}: {}", file_name, label,
                                       certs.error().message));
    for (auto& cert : *certs) {
      bool acceptable = type == TrustStoreType::kTsa ? cert.is_ca() && cert.is_self_signed()
                                                     : cert.is_ca() || cert.is_self_signed();
      if (!acceptable)
        return invalid_input(fmt::format("failed to validate the trusted certificate {} in {}: \"{}\" is not {}", file_name,
                                         label, cert.subject(),
                                         type == TrustStoreType::kTsa ? "a self-signed root CA" : "a CA or self-signed"));
      out.push_back(std::move(cert));
    }
  }
  if (out.empty()) return invalid_input(fmt::format("{} holds no certificate", label));
  return out;
}

std::string_view check_name(Check check) {
  switch (check) {
    case Check::kIntegrity: return "integrity";
    case Check::kAuthenticity: return "authenticity";
    case Check::kAuthenticTimestamp: return "authenticTimestamp";
    case Check::kExpiry: return "expiry";
    case Check::kRevocation: return "revocation";
  }
  return "?";
}

std::string_view action_name(Action action) {
  switch (action) {
    case Action::kEnforce: return "enforce";
    case Action::kLog: return "log";
    case Action::kSkip: return "skip";
  }
  return "?";
}

Result<VerificationLevel> verification_level(std::string_view name, const std::map<std::string, std::string>& overrides) {
  using A = Action;
  VerificationLevel level;
  level.name = std::string(name);
  if (name == "strict") level.actions = {A::kEnforce, A::kEnforce, A::kEnforce, A::kEnforce, A::kEnforce};
  else if (name == "permissive") level.actions = {A::kEnforce, A::kEnforce, A::kLog, A::kLog, A::kLog};
  else if (name == "audit") level.actions = {A::kEnforce, A::kLog, A::kLog, A::kLog, A::kLog};
  else if (name == "skip") level.actions = {A::kSkip, A::kSkip, A::kSkip, A::kSkip, A::kSkip};
  else return invalid_input(fmt::format("invalid signature verification level \"{}\"", name));
  if (overrides.empty()) return level;
  if (name == "skip") return invalid_input("signature verification level \"skip\" can't be used to customize signature verification");
  level.name = "custom";
  for (const auto& [type, value] : overrides) {
    std::optional<Check> check;
    for (Check c : {Check::kIntegrity, Check::kAuthenticity, Check::kAuthenticTimestamp, Check::kExpiry, Check::kRevocation})
      if (check_name(c) == type) check = c;
    if (!check) return invalid_input(fmt::format("verification type \"{}\" in custom signature verification is not supported", type));
    std::optional<Action> action;
    for (Action a : {A::kEnforce, A::kLog, A::kSkip})
      if (action_name(a) == value) action = a;
    if (!action) return invalid_input(fmt::format("verification action \"{}\" in custom signature verification is not supported", value));
    if (*check == Check::kIntegrity)
      return invalid_input("\"integrity\" verification can not be overridden in custom signature verification");
    if (*check != Check::kRevocation && *action == A::kSkip)
      return invalid_input(fmt::format("\"{}\" verification can not be skipped in custom signature verification", type));
    level.actions[static_cast<size_t>(*check)] = *action;
  }
  return level;
}

Result<std::map<std::string, std::string>> parse_distinguished_name(std::string_view dn) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  auto skip_spaces = [&] {
    while (i < dn.size() && dn[i] == ' ') ++i;
  };
  while (true) {
    skip_spaces();
    size_t eq = dn.find('=', i);
    if (eq == std::string_view::npos) return invalid_input(unescape_error(dn));
    std::string type(dn.substr(i, eq - i));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    if (type.empty() || type.find_first_of(",+\\\"") != std::string::npos) return invalid_input(unescape_error(dn));
    if (type == "S") type = "ST";
    i = eq + 1;
    skip_spaces();
    std::string value;
    size_t kept = 0;  // length of `value` up to its last escaped or non-space character
    bool done = false;
    while (i < dn.size()) {
      char c = dn[i];
      if (c == ',' || c == ';') {
        ++i;
        break;
      }
      if (c == '+') return invalid_input(fmt::format("distinguished name \"{}\": multi-valued RDNs are not supported", dn));
      if (c == '"' || c == '<' || c == '>' || c == '=' || (c == '#' && value.empty()))
        return invalid_input(fmt::format("distinguished name \"{}\": unescaped '{}'", dn, c));
      if (c == '\\') {
        if (i + 1 >= dn.size()) return invalid_input(unescape_error(dn));
        char n = dn[i + 1];
        if (std::isxdigit(static_cast<unsigned char>(n)) && i + 2 < dn.size() &&
            std::isxdigit(static_cast<unsigned char>(dn[i + 2]))) {
          value.push_back(static_cast<char>(std::stoi(std::string(dn.substr(i + 1, 2)), nullptr, 16)));
          i += 3;
        } else if (std::string_view(" ,;\\+\"<>=#").find(n) != std::string_view::npos) {
          value.push_back(n);
          i += 2;
        } else {
          return invalid_input(unescape_error(dn));
        }
        kept = value.size();
        continue;
      }
      value.push_back(c);
      if (c != ' ') kept = value.size();
      ++i;
    }
    done = i >= dn.size();
    value.resize(kept);
    if (value.empty()) return invalid_input(fmt::format("distinguished name \"{}\": attribute {} has no value", dn, type));
    if (!out.emplace(type, value).second)
      return invalid_input(fmt::format("distinguished name \"{}\": attribute {} occurs twice", dn, type));
    if (done) break;
  }
  return out;
}

std::map<std::string, std::string> certificate_subject(const crypto::Certificate& cert) {
  std::map<std::string, std::string> out;
  const X509_NAME* name = X509_get_subject_name(cert.get());
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(entry);
    int nid = OBJ_obj2nid(obj);
    std::string type;
    if (nid != NID_undef) {
      type = OBJ_nid2sn(nid);
    } else {
      char buf[128];
      OBJ_obj2txt(buf, sizeof buf, obj, 1);
      type = buf;
    }
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
    std::string value = len >= 0 ? std::string(reinterpret_cast<char*>(utf8), static_cast<size_t>(len)) : std::string();
    OPENSSL_free(utf8);
    auto [it, inserted] = out.emplace(type, value);
    if (!inserted) it->second += "+" + value;
  }
  return out;
}

Status match_trusted_identities(const TrustPolicy& policy, const crypto::Certificate& leaf) {
  if (policy.trusted_identities.size() == 1 && policy.trusted_identities[0] == "*") return ok_status();
  const auto subject = certificate_subject(leaf);
  std::vector<std::string> wanted;
  for (const auto& identity : policy.trusted_identities) {
    auto colon = identity.find(':');
    if (colon == std::string::npos || identity.substr(0, colon) != kX509Subject) continue;
    VOUCH_ASSIGN_OR_RETURN(auto dn, parse_distinguished_name(identity.substr(colon + 1)));
    bool all = std::all_of(dn.begin(), dn.end(), [&](const auto& attr) {
      auto it = subject.find(attr.first);
      return it != subject.end() && it->second == attr.second;
    });
    if (all) return ok_status();
    wanted.push_back(identity.substr(colon + 1));
  }
  return verification_failed(fmt::format(
      "signing certificate \"{}\" does not match the X.509 trusted identities [{}] defined in the trust policy \"{}\"",
      leaf.subject(), fmt::join(wanted, "; "), policy.name));
}

Result<const TrustPolicy*> TrustPolicyDocument::select(std::string_view scope) const {
  const TrustPolicy* global = nullptr;
  for (const auto& p : policies) {
    for (const auto& s : p.registry_scopes) {
      if (s == scope) return &p;
      if (s == "*") global = &p;
    }
  }
  if (global) return global;
  return verification_failed(fmt::format("artifact \"{}\" has no applicable trust policy statement", scope));
}

Result<TrustPolicyDocument> parse_trust_policy(std::string_view text) {
  auto doc = json::parse(text, {1024 * 1024, 16});
  if (!doc.ok() || !doc->is_object()) return invalid_input("malformed trust policy: not a JSON object");
  const auto& root = doc->as_object();
  auto* version = root.if_contains("version");
  if (!version || !version->is_string()) return invalid_input("trust policy document is missing or has empty version");
  if (version->as_string() != "1.0")
    return invalid_input(fmt::format("trust policy document uses unsupported version \"{}\"", std::string(version->as_string())));
  auto* list = root.if_contains("trustPolicies");
  if (!list || !list->is_array() || list->as_array().empty())
    return invalid_input("trust policy document can not have zero trust policy statements");

  auto strings = [](const bj::object& o, std::string_view key, std::string_view policy) -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    auto* v = o.if_contains(key);
    if (!v || v->is_null()) return out;
    if (!v->is_array()) return invalid_input(fmt::format("trust policy statement \"{}\": {} must be an array", policy, key));
    for (const auto& e : v->as_array()) {
      if (!e.is_string()) return invalid_input(fmt::format("trust policy statement \"{}\": {} must hold strings", policy, key));
      out.emplace_back(e.as_string());
    }
    return out;
  };

  TrustPolicyDocument out;
  std::set<std::string> names;
  std::map<std::string, std::string> scope_owner;
  bool has_global = false;
  for (const auto& entry : list->as_array()) {
    if (!entry.is_object()) return invalid_input("malformed trust policy: a statement is not an object");
    const auto& o = entry.as_object();
    TrustPolicy p;
    if (auto* name = o.if_contains("name"); name && name->is_string()) p.name = std::string(name->as_string());
    if (p.name.empty()) return invalid_input("a trust policy statement is missing a name, every statement requires a name");
    if (!names.insert(p.name).second)
      return invalid_input(fmt::format("multiple trust policy statements use the same name \"{}\", statement names must be unique", p.name));

    VOUCH_ASSIGN_OR_RETURN(p.registry_scopes, strings(o, "registryScopes", p.name));
    if (p.registry_scopes.empty())
      return invalid_input(fmt::format("trust policy statement \"{}\" has zero registry scopes, it must specify registry scopes with at least one value", p.name));
    bool wildcard = std::find(p.registry_scopes.begin(), p.registry_scopes.end(), "*") != p.registry_scopes.end();
    if (wildcard && p.registry_scopes.size() > 1)
      return invalid_input(fmt::format("trust policy statement \"{}\" uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values", p.name));
    if (wildcard) {
      if (has_global) return invalid_input("trust policy document has multiple statements with a wildcard registry scope '*'");
      has_global = true;
    } else {
      for (const auto& s : p.registry_scopes) {
        const size_t slash = s.rfind('/');
        const size_t colon = s.rfind(':');
        if (slash == std::string::npos || slash == 0 || slash + 1 == s.size() ||
            s.find_first_of("@* \t") != std::string::npos || (colon != std::string::npos && colon > slash))
          return invalid_input(fmt::format("registry scope \"{}\" is not valid, make sure it is a fully qualified repository without the tag, digest, or wildcards", s));
        auto [it, inserted] = scope_owner.emplace(s, p.name);
        if (!inserted)
          return invalid_input(fmt::format("registry scope \"{}\" is present in multiple trust policy statements, one registry scope value can only be associated with one statement", s));
      }
    }

    auto* sv = o.if_contains("signatureVerification");
    if (!sv || !sv->is_object())
      return invalid_input(fmt::format("trust policy statement \"{}\" is missing signatureVerification", p.name));
    const auto& svo = sv->as_object();
    std::string level_name;
    if (auto* level = svo.if_contains("level"); level && level->is_string()) level_name = std::string(level->as_string());
    std::map<std::string, std::string> overrides;
    if (auto* ov = svo.if_contains("override"); ov && !ov->is_null()) {
      if (!ov->is_object()) return invalid_input(fmt::format("trust policy statement \"{}\": override must be an object", p.name));
      for (const auto& [k, v] : ov->as_object()) {
        if (!v.is_string()) return invalid_input(fmt::format("trust policy statement \"{}\": override values must be strings", p.name));
        overrides[std::string(k)] = std::string(v.as_string());
      }
    }
    auto level = verification_level(level_name, overrides);
    if (!level.ok())
      return invalid_input(fmt::format("trust policy statement \"{}\" has invalid signatureVerification: {}", p.name, level.error().message));
    p.level = *level;
    if (auto* vt = svo.if_contains("verifyTimestamp"); vt && !vt->is_null()) {
      std::string value = vt->is_string() ? std::string(vt->as_string()) : std::string("?");
      if (value == "afterCertExpiry") p.verify_timestamp_always = false;
      else if (value != "always" && !value.empty())
        return invalid_input(fmt::format("trust policy statement \"{}\" has invalid signatureVerification: verifyTimestamp must be \"always\" or \"afterCertExpiry\", but got \"{}\"", p.name, value));
    }

    VOUCH_ASSIGN_OR_RETURN(auto stores, strings(o, "trustStores", p.name));
    VOUCH_ASSIGN_OR_RETURN(p.trusted_identities, strings(o, "trustedIdentities", p.name));
    if (p.level.name == "skip") {
      if (!stores.empty() || !p.trusted_identities.empty())
        return invalid_input(fmt::format("trust policy statement \"{}\" is set to skip signature verification but configured with trust stores and/or trusted identities, remove them if signature verification needs to be skipped", p.name));
    } else if (stores.empty() || p.trusted_identities.empty()) {
      return invalid_input(fmt::format("trust policy statement \"{}\" is either missing trust stores or trusted identities, both must be specified", p.name));
    }
    for (const auto& store : stores) {
      auto colon = store.find(':');
      if (colon == std::string::npos)
        return invalid_input(fmt::format("trust policy statement \"{}\" is missing separator in trust store value \"{}\". The required format is <TrustStoreType>:<TrustStoreName>", p.name, store));
      auto type = trust_store_type_from_name(store.substr(0, colon));
      if (!type.ok())
        return invalid_input(fmt::format("trust policy statement \"{}\" uses an unsupported trust store type \"{}\" in trust store value \"{}\"", p.name, store.substr(0, colon), store));
      std::string name = store.substr(colon + 1);
      if (!valid_store_name(name))
        return invalid_input(fmt::format("trust policy statement \"{}\" uses an unsupported trust store name \"{}\" in trust store value \"{}\". Named store name needs to follow [a-zA-Z0-9_.-]+ format", p.name, name, store));
      p.trust_stores.emplace_back(*type, name);
    }

    const auto& ids = p.trusted_identities;
    if (ids.size() > 1 && std::find(ids.begin(), ids.end(), "*") != ids.end())
      return invalid_input(fmt::format("trust policy statement \"{}\" uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values", p.name));
    std::vector<std::pair<std::string, std::map<std::string, std::string>>> dns;
    for (const auto& identity : ids) {
      if (identity.empty()) return invalid_input(fmt::format("trust policy statement \"{}\" has an empty trusted identity", p.name));
      if (identity == "*") continue;
      auto colon = identity.find(':');
      if (colon == std::string::npos)
        return invalid_input(fmt::format("trust policy statement \"{}\" has trusted identity \"{}\" missing separator", p.name, identity));
      if (identity.substr(0, colon) != kX509Subject) continue;
      std::string value = identity.substr(colon + 1);
      if (value.empty())
        return invalid_input(fmt::format("trust policy statement \"{}\" has trusted identity \"{}\" without an identity value", p.name, identity));
      auto dn = parse_distinguished_name(value);
      if (!dn.ok())
        return invalid_input(fmt::format("trust policy statement \"{}\" has trusted identity \"{}\" with invalid identity value: {}", p.name, identity, dn.error().message));
      if (!dn->count("C") || !dn->count("ST") || !dn->count("O"))
        return invalid_input(fmt::format("trust policy statement \"{}\" has trusted identity \"{}\" with invalid identity value: distinguished name must contain the attributes C, ST (or S) and O", p.name, identity));
      dns.emplace_back(identity, std::move(*dn));
    }
    for (size_t a = 0; a < dns.size(); ++a) {
      for (size_t b = 0; b < dns.size(); ++b) {
        if (a == b) continue;
        const auto& small = dns[a].second;
        const auto& big = dns[b].second;
        bool subset = std::all_of(small.begin(), small.end(), [&](const auto& kv) {
          auto it = big.find(kv.first);
          return it != big.end() && it->second == kv.second;
        });
        if (subset)
          return invalid_input(fmt::format("trust policy statement \"{}\" has overlapping x509 trustedIdentities, \"{}\" overlaps with \"{}\"", p.name, dns[a].first, dns[b].first));
      }
    }
    out.policies.push_back(std::move(p));
  }
  return out;
}

Result<TrustPolicyDocument> load_trust_policy(const fs::path& config_dir) {
  for (const char* name : {"trustpolicy.oci.json", "trustpolicy.json"}) {
    fs::path path = config_dir / name;
    std::error_code ec;
    auto st = fs::symlink_status(path, ec);
    if (ec || !fs::exists(st)) continue;
    if (!fs::is_regular_file(st))
      return invalid_input(fmt::format("trust policy {} is not a regular file (symlinks are not supported)", path.string()));
    VOUCH_ASSIGN_OR_RETURN(auto text, read_regular_file_no_follow(path, 1024 * 1024));
    auto doc = parse_trust_policy(text);
    if (!doc.ok()) return std::move(doc).error().context(path.string());
    return doc;
  }
  return not_found(fmt::format("no trust policy (trustpolicy.oci.json or trustpolicy.json) in {}", config_dir.string()));
}

}  // namespace vouch::notation
