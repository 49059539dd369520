#include "vouch/vuln/matcher.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "vouch/sbom/purl.h"

namespace vouch::vuln {
namespace {

std::string major_of(std::string_view v) { return std::string(v.substr(0, v.find('.'))); }

std::string major_minor_of(std::string_view v) {
  size_t dot = v.find('.');
  if (dot == std::string_view::npos) return std::string(v);
  size_t dot2 = v.find('.', dot + 1);
  return std::string(v.substr(0, dot2));
}

// The distro release of an OS package: the purl's distro qualifier ("debian-12"), else the
// SBOM's distro.
std::optional<std::string> os_release(const sbom::Purl& purl, const std::optional<sbom::Distro>& distro) {
  std::string d = purl.qualifier("distro");
  if (size_t dash = d.rfind('-'); dash != std::string::npos && dash + 1 < d.size()) return d.substr(dash + 1);
  if (distro && !distro->version_id.empty()) return distro->version_id;
  return std::nullopt;
}

std::string with_epoch(const sbom::Purl& purl, std::string version) {
  std::string epoch = purl.qualifier("epoch");
  if (!epoch.empty() && version.find(':') == std::string::npos && epoch != "0") return epoch + ":" + version;
  return version;
}

}  // namespace

Result<MatchKey> match_key(const sbom::Package& pkg, const std::optional<sbom::Distro>& distro) {
  if (pkg.purl.empty()) return invalid_input(fmt::format("{} {}: no purl", pkg.name, pkg.version));
  auto parsed = sbom::parse_purl(pkg.purl);
  if (!parsed.ok()) return std::move(parsed).error();
  const sbom::Purl& purl = *parsed;
  MatchKey key;
  key.version = pkg.version.empty() ? purl.version : pkg.version;
  key.name = purl.name;
  key.via = "purl " + pkg.purl;
  const std::string& t = purl.type;
  if (t == "deb" || t == "apk" || t == "rpm") {
    std::string distro_id = purl.namespace_;
    if (distro_id.empty() && distro) distro_id = distro->id;
    auto release = os_release(purl, distro);
    if (!release) return invalid_input(fmt::format("{}: no distro release to select advisories", pkg.purl));
    if (t == "deb" && distro_id == "debian") key.ecosystem = "Debian:" + major_of(*release);
    else if (t == "deb" && distro_id == "ubuntu") key.ecosystem = "Ubuntu:" + *release;
    else if (t == "apk" && (distro_id == "alpine" || distro_id == "alpinelinux"))
      key.ecosystem = "Alpine:v" + major_minor_of(*release);
    else if (t == "rpm" && distro_id == "rocky") key.ecosystem = "Rocky Linux:" + major_of(*release);
    else if (t == "rpm" && distro_id == "almalinux") key.ecosystem = "AlmaLinux:" + major_of(*release);
    else return invalid_input(fmt::format("{}: no OSV ecosystem for distro '{}'", pkg.purl, distro_id));
    key.version = with_epoch(purl, key.version);
    // Distro advisories name source packages; a binary package matches through its source.
    if (!pkg.source_name.empty() && pkg.source_name != pkg.name) {
      key.name = pkg.source_name;
      if (!pkg.source_version.empty()) key.version = with_epoch(purl, pkg.source_version);
      key.via = fmt::format("source package {} {}", key.name, key.version);
    } else if (!pkg.source_version.empty()) {
      key.version = with_epoch(purl, pkg.source_version);
    }
    return key;
  }
  auto joined = [&](char sep) { return purl.namespace_.empty() ? purl.name : purl.namespace_ + sep + purl.name; };
  if (t == "npm") {
    key.ecosystem = "npm";
    key.name = joined('/');
  } else if (t == "pypi") {
    key.ecosystem = "PyPI";
  } else if (t == "golang") {
    key.ecosystem = "Go";
    key.name = joined('/');
    // The Go toolchain: syft names it stdlib with version "go1.21.0"; OSV uses "1.21.0".
    if (key.name == "stdlib" && key.version.starts_with("go")) key.version = key.version.substr(2);
  } else if (t == "maven") {
    key.ecosystem = "Maven";
    key.name = joined(':');
  } else if (t == "cargo") {
    key.ecosystem = "crates.io";
  } else if (t == "gem") {
    key.ecosystem = "RubyGems";
  } else if (t == "composer") {
    key.ecosystem = "Packagist";
    key.name = joined('/');
  } else if (t == "nuget") {
    key.ecosystem = "NuGet";
  } else if (t == "hex") {
    key.ecosystem = "Hex";
  } else {
    return invalid_input(fmt::format("{}: no OSV ecosystem for purl type '{}'", pkg.purl, t));
  }
  if (key.version.empty()) return invalid_input(fmt::format("{}: no version", pkg.purl));
  return key;
}

Result<AffectedCheck> check_affected(const OsvAffected& affected, std::string_view version) {
  AffectedCheck out;
  auto scheme = scheme_for_ecosystem(affected.ecosystem);
  if (!scheme) return invalid_input(fmt::format("ecosystem '{}': version ordering unknown", affected.ecosystem));
  VOUCH_RETURN_IF_ERROR(validate_version(*scheme, version));
  for (const auto& v : affected.versions) {
    if (v == version) {
      out.affected = true;
      break;
    }
  }
  for (const auto& range : affected.ranges) {
    if (range.type == "GIT") {
      out.notes.push_back(fmt::format("GIT range{} skipped: commits cannot be compared with package versions",
                                      range.repo.empty() ? "" : " of " + range.repo));
      continue;
    }
    if (range.type != "ECOSYSTEM" && range.type != "SEMVER") {
      out.notes.push_back(fmt::format("range type '{}' skipped", range.type));
      continue;
    }
    VersionScheme rs = range.type == "SEMVER" ? VersionScheme::kSemver : *scheme;
    if (rs != *scheme) VOUCH_RETURN_IF_ERROR(validate_version(rs, version));
    bool usable = true;
    for (const auto& e : range.events) {
      if (e.kind == EventKind::kIntroduced && e.value == "0") continue;
      if (!validate_version(rs, e.value).ok()) {
        out.notes.push_back(fmt::format("{} range skipped: event version '{}' is not a {} version", range.type,
                                        e.value, scheme_name(rs)));
        usable = false;
        break;
      }
    }
    if (!usable) continue;
    // Order the events by version ("0" first) and walk them up to the package's version.
    std::vector<const OsvEvent*> events;
    std::vector<const OsvEvent*> limits;
    for (const auto& e : range.events) (e.kind == EventKind::kLimit ? limits : events).push_back(&e);
    auto cmp = [&](std::string_view a, std::string_view b) -> int {
      if (a == b) return 0;
      if (a == "0") return -1;
      if (b == "0") return 1;
      return *compare_versions(rs, a, b);
    };
    std::stable_sort(events.begin(), events.end(), [&](const OsvEvent* a, const OsvEvent* b) {
      bool a0 = a->kind == EventKind::kIntroduced && a->value == "0";
      bool b0 = b->kind == EventKind::kIntroduced && b->value == "0";
      if (a0 || b0) return a0 && !b0;
      return cmp(a->value, b->value) < 0;
    });
    bool hit = false;
    for (const OsvEvent* e : events) {
      bool zero = e->kind == EventKind::kIntroduced && e->value == "0";
      int c = zero ? 1 : cmp(version, e->value);  // version vs event
      if (e->kind == EventKind::kIntroduced) {
        if (c >= 0) hit = true;
        else break;
      } else if (e->kind == EventKind::kFixed) {
        if (c >= 0) hit = false;
        else break;
      } else if (e->kind == EventKind::kLastAffected) {
        if (c > 0) hit = false;
        else if (c < 0) break;
      }
    }
    if (hit && !limits.empty()) {
      bool under = false;
      for (const OsvEvent* l : limits) under = under || l->value == "*" || cmp(version, l->value) < 0;
      hit = under;
    }
    if (!hit) continue;
    out.affected = true;
    // The first fix above this version in this range.
    for (const OsvEvent* e : events) {
      if (e->kind == EventKind::kFixed && cmp(version, e->value) < 0) {
        if (std::find(out.fixed.begin(), out.fixed.end(), e->value) == out.fixed.end()) out.fixed.push_back(e->value);
        break;
      }
    }
  }
  return out;
}

void assign_severity(const OsvRecord& record, const OsvAffected* affected, Finding& f) {
  auto try_list = [&](const std::vector<OsvSeverity>& list) {
    for (const auto& s : list) {
      if (s.type != "CVSS_V3") continue;
      auto score = cvss3_base_score(s.score);
      if (!score.ok()) continue;
      Severity sev = severity_for_score(*score);
      if (!f.score || *score > *f.score) {
        f.score = *score;
        f.score_vector = s.score;
        f.severity = sev;
        f.severity_source = s.type;
      }
      return true;
    }
    return false;
  };
  if (affected && try_list(affected->severity)) return;
  if (try_list(record.severity)) return;
  if (!f.score && !record.database_severity.empty()) {
    auto sev = parse_severity(record.database_severity);
    if (sev.ok() && *sev > f.severity) {
      f.severity = *sev;
      f.severity_source = "database_specific";
    }
  }
}

namespace {

// The id a finding is shown under: its CVE when the records name exactly one, else its
// GHSA when they name exactly one, else the first record's id (a DSA fixing five CVEs stays
// the DSA).
std::string preferred_id(const std::set<std::string>& ids, const std::set<std::string>& records) {
  for (const char* prefix : {"CVE-", "GHSA-"}) {
    std::vector<std::string> hits;
    for (const auto& id : ids)
      if (id.starts_with(prefix)) hits.push_back(id);
    if (hits.size() == 1) return hits.front();
    if (hits.size() > 1) break;
  }
  return *records.begin();
}

struct RawFinding {
  const OsvRecord* record;
  const OsvAffected* affected;
  std::vector<std::string> fixed;
};

// Merges the findings of one package whose records share an id or alias into one finding.
std::vector<Finding> merge(const sbom::Package& pkg, const MatchKey& key, const std::vector<RawFinding>& raws) {
  size_t n = raws.size();
  std::vector<size_t> parent(n);
  for (size_t i = 0; i < n; ++i) parent[i] = i;
  auto find = [&](size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  std::map<std::string, size_t> owner;
  for (size_t i = 0; i < n; ++i) {
    std::vector<std::string> ids = raws[i].record->aliases;
    ids.push_back(raws[i].record->id);
    for (const auto& id : ids) {
      auto [it, inserted] = owner.emplace(id, i);
      if (!inserted) parent[find(i)] = find(it->second);
    }
  }
  std::map<size_t, std::vector<size_t>> groups;
  for (size_t i = 0; i < n; ++i) groups[find(i)].push_back(i);
  std::vector<Finding> out;
  for (const auto& [root, members] : groups) {
    Finding f;
    std::set<std::string> ids, records;
    std::set<std::string> fixed;
    bool all_informational = true;
    std::string informational;
    for (size_t i : members) {
      const OsvRecord& r = *raws[i].record;
      records.insert(r.id);
      ids.insert(r.id);
      ids.insert(r.aliases.begin(), r.aliases.end());
      fixed.insert(raws[i].fixed.begin(), raws[i].fixed.end());
      if (f.summary.empty()) f.summary = r.summary;
      for (const auto& ref : r.references)
        if (std::find(f.references.begin(), f.references.end(), ref) == f.references.end()) f.references.push_back(ref);
      assign_severity(r, raws[i].affected, f);
      if (raws[i].affected->informational.empty()) all_informational = false;
      else informational = raws[i].affected->informational;
    }
    f.id = preferred_id(ids, records);
    for (const auto& id : ids)
      if (id != f.id) f.aliases.push_back(id);
    f.records.assign(records.begin(), records.end());
    f.fixed_versions.assign(fixed.begin(), fixed.end());
    f.package = {pkg.id, pkg.name, pkg.version, pkg.type, pkg.purl};
    f.ecosystem = key.ecosystem;
    f.matched_by = key.via;
    if (all_informational) f.informational = informational;
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

Result<MatchReport> match_sbom(const sbom::Sbom& sbom, VulnerabilityStore& store) {
  MatchReport report;
  report.packages = sbom.packages.size();
  for (const auto& pkg : sbom.packages) {
    if (!pkg.owner_id.empty()) {
      const sbom::Package* owner = sbom.find(pkg.owner_id);
      if (owner && sbom::is_os_package_type(owner->type)) {
        ++report.packages_owned;
        continue;
      }
    }
    auto key = match_key(pkg, sbom.distro);
    if (!key.ok()) {
      if (!pkg.purl.empty()) report.notes.push_back(key.error().message);
      continue;
    }
    ++report.packages_matched;
    std::vector<std::string> ecosystems{key->ecosystem};
    if (key->ecosystem.starts_with("Ubuntu:")) ecosystems.push_back(key->ecosystem + ":LTS");
    std::vector<OsvRecord> records;
    for (const auto& eco : ecosystems) {
      VOUCH_ASSIGN_OR_RETURN(auto found, store.records_for(eco, key->name));
      for (auto& r : found) records.push_back(std::move(r));
    }
    std::vector<RawFinding> raws;
    std::string wanted = normalize_package_name(key->ecosystem.substr(0, key->ecosystem.find(':')), key->name);
    for (const auto& record : records) {
      if (record.withdrawn) {
        ++report.withdrawn_ignored;
        continue;
      }
      for (const auto& affected : record.affected) {
        if (std::find(ecosystems.begin(), ecosystems.end(), affected.ecosystem) == ecosystems.end()) continue;
        if (normalize_package_name(affected.ecosystem.substr(0, affected.ecosystem.find(':')), affected.name) != wanted)
          continue;
        auto check = check_affected(affected, key->version);
        if (!check.ok()) {
          report.notes.push_back(fmt::format("{} {}: {}: {}", pkg.name, pkg.version, record.id, check.error().message));
          continue;
        }
        for (const auto& note : check->notes)
          report.notes.push_back(fmt::format("{} {}: {}: {}", pkg.name, pkg.version, record.id, note));
        if (check->affected) raws.push_back({&record, &affected, check->fixed});
      }
    }
    for (auto& f : merge(pkg, *key, raws)) {
      if (f.informational.empty()) report.vulnerabilities.push_back(std::move(f));
      else report.informational.push_back(std::move(f));
    }
  }
  return report;
}

}  // namespace vouch::vuln
