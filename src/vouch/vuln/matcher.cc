#include "vouch/vuln/matcher.h"

#include <algorithm>
#include <map>
#include <memory>
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

// The distro of an OS package: the purl's distro qualifier ("debian-12",
// "opensuse-leap-15.5"), else the SBOM's distro, else the purl namespace (id only).
struct DistroRef {
  std::string id, version_id;
};
std::optional<DistroRef> os_distro(const sbom::Purl& purl, const std::optional<sbom::Distro>& distro) {
  std::string d = purl.qualifier("distro");
  if (size_t dash = d.rfind('-'); dash != std::string::npos && dash > 0 && dash + 1 < d.size())
    return DistroRef{d.substr(0, dash), d.substr(dash + 1)};
  if (distro && !distro->id.empty()) return DistroRef{distro->id, distro->version_id};
  if (!purl.namespace_.empty()) return DistroRef{purl.namespace_, ""};
  return std::nullopt;
}

std::string with_epoch(const sbom::Purl& purl, std::string version) {
  std::string epoch = purl.qualifier("epoch");
  if (!epoch.empty() && version.find(':') == std::string::npos && epoch != "0") return epoch + ":" + version;
  return version;
}

}  // namespace

Result<DistroEcosystems> distro_ecosystems(std::string_view type, std::string_view id,
                                           std::string_view version_id) {
  DistroEcosystems e;
  auto need_version = [&]() -> Status {
    if (version_id.empty()) return invalid_input(fmt::format("distro '{}': no release to select advisories", id));
    return ok_status();
  };
  if (type == "deb" && id == "debian") {
    VOUCH_RETURN_IF_ERROR(need_version());
    e.primary = "Debian:" + major_of(version_id);
  } else if (type == "deb" && id == "ubuntu") {
    VOUCH_RETURN_IF_ERROR(need_version());
    std::string release = major_minor_of(version_id);
    // LTS releases are the even years' April ones: Ubuntu:22.04:LTS; others: Ubuntu:23.10.
    bool lts = release.ends_with(".04") && !release.empty() && (release[release.find('.') - 1] - '0') % 2 == 0;
    e.primary = "Ubuntu:" + release + (lts ? ":LTS" : "");
    e.exact.push_back(lts ? "Ubuntu:" + release : "Ubuntu:" + release + ":LTS");
    // Releases in extended maintenance get their fixes through Ubuntu Pro (ESM); those
    // records say which versions are vulnerable whether or not the machine has Pro.
    if (lts) e.exact.push_back("Ubuntu:Pro:" + release + ":LTS");
  } else if (type == "apk" && (id == "alpine" || id == "alpinelinux")) {
    VOUCH_RETURN_IF_ERROR(need_version());
    e.primary = "Alpine:v" + major_minor_of(version_id);
  } else if (type == "apk" && id == "wolfi") {
    e.primary = "Wolfi";
  } else if (type == "apk" && id == "chainguard") {
    e.primary = "Chainguard";
  } else if (type == "rpm" && id == "rhel") {
    VOUCH_RETURN_IF_ERROR(need_version());
    e.primary = "Red Hat:enterprise_linux:" + major_of(version_id);
    e.family_prefix = e.primary + "::";
  } else if (type == "rpm" && (id == "rocky" || id == "almalinux")) {
    VOUCH_RETURN_IF_ERROR(need_version());
    e.primary = (id == "rocky" ? "Rocky Linux:" : "AlmaLinux:") + major_of(version_id);
  } else if (type == "rpm" && (id == "sles" || id == "sled" || id == "sles_sap" || id == "sle_hpc")) {
    VOUCH_RETURN_IF_ERROR(need_version());
    std::string major = major_of(version_id);
    size_t dot = version_id.find('.');
    std::string sp = dot == std::string_view::npos ? "" : std::string(version_id.substr(dot + 1));
    e.family_release = sp.empty() || sp == "0" ? major : major + " SP" + sp;
    e.family_prefix = "SUSE:Linux Enterprise ";
    e.primary = "SUSE:Linux Enterprise Server " + e.family_release;
  } else if (type == "rpm" && id == "sle-micro") {
    VOUCH_RETURN_IF_ERROR(need_version());
    e.primary = "SUSE:Linux Enterprise Micro " + std::string(version_id);
  } else if (type == "rpm" && id == "opensuse-leap") {
    VOUCH_RETURN_IF_ERROR(need_version());
    e.primary = "openSUSE:Leap " + std::string(version_id);
  } else if (type == "rpm" && id == "opensuse-leap-micro") {
    VOUCH_RETURN_IF_ERROR(need_version());
    e.primary = "openSUSE:Leap Micro " + std::string(version_id);
  } else if (type == "rpm" && id == "opensuse-tumbleweed") {
    e.primary = "openSUSE:Tumbleweed";
  } else {
    return invalid_input(fmt::format("no OSV ecosystem for {} packages of distro '{}'", type, id));
  }
  if (e.family_prefix.empty()) e.exact.insert(e.exact.begin(), e.primary);
  return e;
}

bool ecosystem_applies(const DistroEcosystems& e, std::string_view eco) {
  if (std::find(e.exact.begin(), e.exact.end(), eco) != e.exact.end()) return true;
  if (e.family_prefix.empty() || !eco.starts_with(e.family_prefix)) return false;
  if (e.family_release.empty()) return true;
  // "SUSE:Linux Enterprise Module for Basesystem 15 SP5", "… Server 15 SP5-LTSS".
  std::string_view rest = eco.substr(e.family_prefix.size());
  std::string tail = " " + e.family_release;
  if (rest.ends_with(tail)) return true;
  size_t at = rest.find(tail + "-");
  return at != std::string_view::npos && rest.find(' ', at + tail.size()) == std::string_view::npos;
}

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
    auto d = os_distro(purl, distro);
    if (!d) return invalid_input(fmt::format("{}: no distro to select advisories", pkg.purl));
    // A namespace that only names the vendor ("redhat") against the SBOM's own distro.
    if (d->id == "redhat") d->id = "rhel";
    if (d->version_id.empty() && distro && !distro->version_id.empty()) d->version_id = distro->version_id;
    std::string version = with_epoch(purl, key.version);
    VOUCH_ASSIGN_OR_RETURN(key.os, distro_ecosystems(t, d->id, d->version_id));
    key.ecosystem = key.os.primary;
    key.version = version;
    // Distro advisories name source packages; a binary package matches through its source.
    if (!pkg.source_name.empty() && pkg.source_name != pkg.name) {
      key.name = pkg.source_name;
      if (!pkg.source_version.empty()) key.version = with_epoch(purl, pkg.source_version);
      key.via = fmt::format("source package {} {}", key.name, key.version);
      if (t == "rpm") {
        key.binary_name = purl.name;
        key.binary_version = version;
      }
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
  // A CVSS v4.0 vector is preferred to a v3 one in the same list, as grype's database orders
  // them (newer version first among the vectors of one source).
  auto try_list = [&](const std::vector<OsvSeverity>& list) {
    for (const char* type : {"CVSS_V4", "CVSS_V3"}) {
      for (const auto& s : list) {
        if (s.type != type) continue;
        auto score = s.type == "CVSS_V4" ? cvss4_score(s.score) : cvss3_base_score(s.score);
        if (!score.ok()) continue;
        if (!f.score || *score > *f.score) {
          f.score = *score;
          f.score_vector = s.score;
          f.severity = severity_for_score(*score);
          f.severity_source = s.type;
          f.scored_by = record.id;
        }
        return true;
      }
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
      f.scored_by = record.id;
    }
  }
}

namespace {

int alias_rank(std::string_view id) {
  if (id.starts_with("GHSA-")) return 0;
  if (id.starts_with("CVE-")) return 1;
  return 2;
}

// The alias record's entry for the finding's package, when it names one.
const OsvAffected* alias_affected(const OsvRecord& record, const Finding& f) {
  const OsvAffected* same_ecosystem = nullptr;
  for (const auto& a : record.affected) {
    if (a.ecosystem != f.ecosystem) continue;
    std::string base = a.ecosystem.substr(0, a.ecosystem.find(':'));
    if (normalize_package_name(base, a.name) == normalize_package_name(base, f.package.name)) return &a;
    if (!same_ecosystem) same_ecosystem = &a;
  }
  return same_ecosystem;
}

}  // namespace

Status borrow_alias_severity(VulnerabilityStore& store, Finding& f, AliasCache& cache) {
  constexpr size_t kMaxAliasLookups = 32;
  std::vector<std::string> candidates;
  auto consider = [&](const std::string& id) {
    if (std::find(f.records.begin(), f.records.end(), id) != f.records.end()) return;
    if (std::find(candidates.begin(), candidates.end(), id) != candidates.end()) return;
    candidates.push_back(id);
  };
  consider(f.id);
  for (const auto& id : f.aliases) consider(id);
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const std::string& a, const std::string& b) { return alias_rank(a) < alias_rank(b); });
  if (candidates.size() > kMaxAliasLookups) candidates.resize(kMaxAliasLookups);
  std::optional<Finding> best;
  for (const auto& id : candidates) {
    auto it = cache.find(id);
    if (it == cache.end()) {
      VOUCH_ASSIGN_OR_RETURN(auto record, store.record(id));
      it = cache.emplace(id, std::move(record)).first;
    }
    if (!it->second || it->second->withdrawn) continue;
    Finding scored;
    scored.ecosystem = f.ecosystem;
    scored.package = f.package;
    assign_severity(*it->second, alias_affected(*it->second, f), scored);
    if (scored.severity == Severity::kUnknown) continue;
    // Candidates come in preference order, so a tie keeps the earlier one.
    if (!best || scored.severity > best->severity) best = std::move(scored);
  }
  if (!best) return ok_status();
  f.severity = best->severity;
  f.score = best->score;
  f.score_vector = best->score_vector;
  f.severity_source = best->severity_source;
  f.scored_by = best->scored_by;
  return ok_status();
}

namespace {

// The id a finding is shown under: its CVE when the records name exactly one (as alias or
// upstream), else its GHSA when they name exactly one, else the first record's id (a DSA or
// RHSA fixing five CVEs stays the DSA or RHSA).
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
      // A distro record's upstream CVEs name the finding too (so VEX statements about the
      // CVE apply), without merging records that merely share one.
      ids.insert(r.upstream.begin(), r.upstream.end());
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

Result<MatchReport> match_sbom(const sbom::Sbom& sbom, VulnerabilityStore& store, const MatchProgress& progress) {
  MatchReport report;
  report.packages = sbom.packages.size();
  std::map<std::string, std::vector<std::string>> families;  // family prefix -> stored ecosystems
  AliasCache alias_records;
  size_t done = 0;
  for (const auto& pkg : sbom.packages) {
    if (progress) progress(done++, sbom.packages.size());
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
    // The ecosystems to look in: the language ecosystem, or every one of the distro release.
    std::vector<std::string> ecosystems{key->ecosystem};
    if (!key->os.primary.empty()) {
      ecosystems = key->os.exact;
      if (!key->os.family_prefix.empty()) {
        auto it = families.find(key->os.family_prefix);
        if (it == families.end()) {
          VOUCH_ASSIGN_OR_RETURN(auto names, store.ecosystems_with_prefix(key->os.family_prefix));
          it = families.emplace(key->os.family_prefix, std::move(names)).first;
        }
        for (const auto& eco : it->second)
          if (ecosystem_applies(key->os, eco)) ecosystems.push_back(eco);
      }
    }
    // The names to look up, each with the version to compare.
    std::vector<std::pair<std::string, std::string>> names{{key->name, key->version}};
    if (!key->binary_name.empty() && key->binary_name != key->name)
      names.emplace_back(key->binary_name, key->binary_version);
    std::vector<RawFinding> raws;
    std::set<std::string> seen_records;
    std::vector<std::unique_ptr<OsvRecord>> records;
    for (const auto& [name, version] : names) {
      std::vector<OsvRecord> found_all;
      for (const auto& eco : ecosystems) {
        VOUCH_ASSIGN_OR_RETURN(auto found, store.records_for(eco, name));
        for (auto& r : found) found_all.push_back(std::move(r));
      }
      for (auto& r : found_all) {
        if (!seen_records.insert(r.id + "\n" + name).second) continue;
        records.push_back(std::make_unique<OsvRecord>(std::move(r)));
        const OsvRecord& record = *records.back();
        if (record.withdrawn) {
          ++report.withdrawn_ignored;
          continue;
        }
        for (const auto& affected : record.affected) {
          std::string base = affected.ecosystem.substr(0, affected.ecosystem.find(':'));
          if (std::find(ecosystems.begin(), ecosystems.end(), affected.ecosystem) == ecosystems.end()) continue;
          if (normalize_package_name(base, affected.name) != normalize_package_name(base, name)) continue;
          auto check = check_affected(affected, version);
          if (!check.ok()) {
            report.notes.push_back(fmt::format("{} {}: {}: {}", pkg.name, pkg.version, record.id, check.error().message));
            continue;
          }
          for (const auto& note : check->notes)
            report.notes.push_back(fmt::format("{} {}: {}: {}", pkg.name, pkg.version, record.id, note));
          if (check->affected) raws.push_back({&record, &affected, check->fixed});
        }
      }
    }
    for (auto& f : merge(pkg, *key, raws)) {
      if (f.severity == Severity::kUnknown && !f.score) {
        VOUCH_RETURN_IF_ERROR(borrow_alias_severity(store, f, alias_records));
      }
      if (f.informational.empty()) report.vulnerabilities.push_back(std::move(f));
      else report.informational.push_back(std::move(f));
    }
  }
  return report;
}

}  // namespace vouch::vuln
