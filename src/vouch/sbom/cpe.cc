// CPE 2.3 candidates for packages (see cpe.h for the rules by package type).
#include "vouch/sbom/cpe.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "vouch/base/ascii.h"
#include "vouch/sbom/purl.h"

namespace vouch::sbom {
namespace {

constexpr size_t kMaxCpes = 32;

// Adds the '-' <-> '_' variants of every candidate.
void add_delimiter_variants(std::vector<std::string>& fields) {
  std::vector<std::string> extra;
  for (const auto& f : fields) {
    if (f.find('-') != std::string::npos) {
      std::string v = f;
      std::replace(v.begin(), v.end(), '-', '_');
      extra.push_back(v);
    }
    if (f.find('_') != std::string::npos) {
      std::string v = f;
      std::replace(v.begin(), v.end(), '_', '-');
      extra.push_back(v);
    }
  }
  for (auto& e : extra)
    if (std::find(fields.begin(), fields.end(), e) == fields.end()) fields.push_back(std::move(e));
}

void add(std::vector<std::string>& fields, std::string value) {
  if (value.empty()) return;
  if (std::find(fields.begin(), fields.end(), value) == fields.end()) fields.push_back(std::move(value));
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string cpe_escape(std::string_view value) {
  if (value.empty()) return "*";
  std::string out;
  for (char c : value) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                 c == '-' || c == '.';
    if (!plain) out += '\\';
    out += c;
  }
  return out;
}

std::vector<std::string> generate_cpes(const Package& p) {
  if (p.name.empty() || p.version.empty()) return {};
  std::vector<std::string> vendors, products;
  std::string version = p.version;
  const char* update = "*";
  std::string name = lower(p.name);
  std::string purl_namespace;
  if (!p.purl.empty())
    if (auto purl = parse_purl(p.purl); purl.ok()) purl_namespace = lower(purl->namespace_);
  const std::string& t = p.type;
  if (t == type::kDeb || t == type::kApk || t == type::kRpm || t == type::kRustCrate || t == type::kDotnet ||
      t == type::kGem || t == type::kNpm) {
    add(vendors, name);
    add(products, name);
  } else if (t == type::kPython) {
    add(vendors, name);
    add(vendors, fmt::format("python-{}", name));
    add(vendors, "python");
    add(products, name);
    add(products, fmt::format("python-{}", name));
  } else if (t == type::kGoModule) {
    if (name == "stdlib") {
      add(vendors, "golang");
      add(products, "go");
      if (version.starts_with("go")) version.erase(0, 2);
      update = "-";
    } else {
      auto parts = split(name, '/');
      if (parts.empty()) return {};
      // Major-version suffixes are not part of the product ("…/v2").
      if (parts.size() > 1 && parts.back().size() > 1 && parts.back()[0] == 'v' &&
          std::all_of(parts.back().begin() + 1, parts.back().end(), [](char c) { return c >= '0' && c <= '9'; }))
        parts.pop_back();
      if (parts.size() >= 3 && parts[0] == "golang.org" && parts[1] == "x") {
        add(vendors, "golang");
        add(products, parts[2]);
      } else if (parts.size() >= 3) {
        add(vendors, parts[1]);
        add(products, parts[2]);
      } else {
        add(vendors, parts.back());
        add(products, parts.back());
      }
    }
  } else if (t == type::kJavaArchive) {
    // groupId org.apache.logging.log4j: the organisation after a leading TLD ("apache").
    auto group = split(purl_namespace, '.');
    static const std::set<std::string> kTlds = {"org", "com", "io", "net", "de", "edu", "gov", "uk", "ch", "fr"};
    if (group.size() >= 2 && kTlds.count(group[0])) add(vendors, group[1]);
    else if (!group.empty()) add(vendors, group[0]);
    add(vendors, name);
    add(products, name);
  } else if (t == type::kPhpComposer) {
    std::string vendor = purl_namespace, product = name;
    if (size_t slash = name.find('/'); slash != std::string::npos) {
      vendor = name.substr(0, slash);
      product = name.substr(slash + 1);
    }
    add(vendors, vendor.empty() ? product : vendor);
    add(products, product);
  } else {
    return {};
  }
  add_delimiter_variants(vendors);
  add_delimiter_variants(products);
  std::vector<std::string> out;
  for (const auto& v : vendors) {
    for (const auto& pr : products) {
      if (out.size() == kMaxCpes) return out;
      out.push_back(fmt::format("cpe:2.3:a:{}:{}:{}:{}:*:*:*:*:*:*", cpe_escape(v), cpe_escape(pr),
                                cpe_escape(version), update));
    }
  }
  return out;
}

void add_cpes(Sbom& sbom) {
  for (auto& p : sbom.packages)
    if (p.cpes.empty()) p.cpes = generate_cpes(p);
}

}  // namespace vouch::sbom
