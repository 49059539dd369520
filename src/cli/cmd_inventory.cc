// inventory add|images|query|affected|findings|rescan|suppress, and watch: the image inventory, its package
// index and its findings, as ECR's continuous scanning and Dependency-Track's portfolio keep them.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <fnmatch.h>
#include <mutex>
#include <thread>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "cli/commands.h"
#include "cli/db_update.h"
#include "cli/inventory_common.h"
#include "cli/common.h"
#include "cli/progress.h"
#include "cli/verify_flags.h"
#include "vouch/base/bytes.h"
#include "vouch/base/json.h"
#include "vouch/base/time.h"
#include "vouch/crypto/digest.h"
#include "vouch/intoto/predicate.h"
#include "vouch/base/file.h"
#include "vouch/inventory/alerts.h"
#include "vouch/inventory/scan.h"
#include "vouch/inventory/store.h"
#include "vouch/net/http_server.h"
#include "vouch/oci/reference.h"
#include "vouch/oci/registry.h"
#include "vouch/oci/store.h"
#include "vouch/sbom/catalog.h"
#include "vouch/sbom/reader.h"
#include "vouch/vuln/database.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;

// Where the inventory and the vulnerability database are.
struct StoreFlags {
  std::string store;
  std::string db;

  void add(CLI::App* cmd) {
    cmd->add_option("--store", store,
                    "Inventory store: a SQLite file or postgres://… (default $VOUCH_INVENTORY, else\n"
                    "$XDG_DATA_HOME/vouch/inventory.db)");
    cmd->add_option("--db", db, "Vulnerability database directory (default $XDG_CACHE_HOME/vouch/db)");
  }
  std::string store_url() const {
    if (!store.empty()) return store;
    if (const char* env = std::getenv("VOUCH_INVENTORY"); env && *env) return env;
    return inventory::default_inventory_url();
  }
  fs::path vuln_file() const { return vuln::database_file(db.empty() ? vuln::default_database_dir() : fs::path(db)); }
  Result<std::unique_ptr<inventory::InventoryStore>> open() const { return inventory::open_inventory_store(store_url()); }
};

std::string join(const std::vector<std::string>& v, std::string_view sep = ",") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string short_digest(std::string_view d) {
  size_t colon = d.find(':');
  return std::string(d.substr(colon == std::string_view::npos ? 0 : colon + 1, 12));
}

void print_findings_table(const std::vector<inventory::FindingRow>& rows) {
  if (rows.empty()) {
    fmt::print("no findings\n");
    return;
  }
  fmt::print("{:<20} {:<10} {:<11} {:<28} {:<20} {:<16} {:<12} {}\n", "VULNERABILITY", "SEVERITY", "STATUS", "PACKAGE",
             "VERSION", "FIXED IN", "IMAGE", "REPOSITORY");
  for (const auto& f : rows)
    fmt::print("{:<20} {:<10} {:<11} {:<28} {:<20} {:<16} {:<12} {}\n", printable_line(f.vulnerability), f.severity,
               inventory::status_name(f.status), printable_line(f.package_name), printable_line(f.package_version),
               printable_line(join(f.fixed_versions)), short_digest(f.digest), printable_line(f.repository));
}

void print_reconciled(const inventory::Reconciled& r, std::string_view digest) {
  for (const auto& f : r.opened)
    fmt::print("opened  {} {} {} {} ({})\n", f.vulnerability, f.severity, f.package_name, f.package_version,
               short_digest(digest));
  for (const auto& f : r.reopened)
    fmt::print("reopened {} {} {} {} ({})\n", f.vulnerability, f.severity, f.package_name, f.package_version,
               short_digest(digest));
  for (const auto& f : r.closed)
    fmt::print("closed  {} {} {} {} ({})\n", f.vulnerability, f.severity, f.package_name, f.package_version,
               short_digest(digest));
}

// ---- add

struct AddOptions {
  StoreFlags flags;
  std::string target;
  std::string repository;
  std::vector<std::string> tags;
  std::string platform;
  std::string pushed;
  bool allow_insecure = false;
  std::string output = "table";
  TimeoutFlag timeout;
  // The image's own SBOM attestation is used when it verifies with these.
  CosignVerifyFlags verify;
  std::vector<std::string> sbom_types;  // cosign --type names; none: cyclonedx, then spdxjson
};

// Who signed a verified attestation, for the record.
std::string signer_of(const cosign::VerifiedSignature& v, const cosign::VerifyOptions& options) {
  if (v.signer_identity) return fmt::format("{} ({})", *v.signer_identity, v.signer_issuer.value_or(""));
  if (v.key_index && *v.key_index < options.keys.size())
    return "key sha256:" + hex_encode(crypto::sha256(options.keys[*v.key_index].der()));
  return "key";
}

// What one verification answered, for the image's record: each verified signature (or
// attestation), or why none verified.
void record(const cosign::VerifyResult* result, const Error* error, const std::string& kind, const std::string& type,
            const cosign::VerifyOptions& options, const oci::Digest& digest, std::vector<inventory::ImageVerification>& out) {
  inventory::ImageVerification v;
  v.kind = kind;
  v.predicate_type = type;
  if (error) {
    v.reason = printable_line(error->message);
  } else if (result->digest != digest) {
    v.reason = fmt::format("checked for {}, not {}", result->digest.str(), digest.str());
  } else if (!result->ok()) {
    v.reason = printable_line(result->failure_summary());
  } else {
    for (const auto& s : result->verified) {
      inventory::ImageVerification ok = v;
      ok.verified = true;
      ok.signer = signer_of(s, options);
      if (s.signed_at) ok.signed_at = format_rfc3339(*s.signed_at);
      ok.log_indexes = s.log_indexes;
      ok.location = printable_line(s.source);
      out.push_back(std::move(ok));
    }
    return;
  }
  out.push_back(std::move(v));
}

// The verification options the flags give (trust material read, or fetched over TUF, once for
// every check of the image); none without a key or an identity.
Result<std::optional<cosign::VerifyOptions>> verify_options(const AddOptions& o) {
  if (!o.verify.given()) return std::optional<cosign::VerifyOptions>();
  oci::StoreOptions so;
  so.allow_insecure = o.allow_insecure;
  so.timeout = o.timeout.duration();
  VOUCH_ASSIGN_OR_RETURN(cosign::VerifyOptions options, cosign_verify_options(o.verify, so, o.timeout.deadline()));
  return std::optional<cosign::VerifyOptions>(std::move(options));
}

// The image's signatures and SLSA provenance (v1, else v0.2), checked with the flags given.
Status verify_signatures_and_provenance(const cosign::VerifyOptions& options, const oci::ImageRef& ref,
                                        const oci::Digest& digest, std::vector<inventory::ImageVerification>& out) {
  auto signatures = cosign::verify_image_signatures(ref, options);
  record(signatures.ok() ? &*signatures : nullptr, signatures.ok() ? nullptr : &signatures.error(), "signature", "",
         options, digest, out);
  // SLSA v1, then v0.2: the first that verifies is the image's; when neither does, both say why.
  std::vector<inventory::ImageVerification> unverified;
  for (const char* type : {"slsaprovenance1", "slsaprovenance02"}) {
    VOUCH_ASSIGN_OR_RETURN(std::string uri, intoto::predicate_type_for(type));
    auto provenance = cosign::verify_image_attestations(ref, uri, options);
    std::vector<inventory::ImageVerification> rows;
    record(provenance.ok() ? &*provenance : nullptr, provenance.ok() ? nullptr : &provenance.error(), "provenance", uri,
           options, digest, rows);
    if (!rows.empty() && rows.front().verified) {
      out.insert(out.end(), rows.begin(), rows.end());
      return ok_status();
    }
    unverified.insert(unverified.end(), rows.begin(), rows.end());
  }
  out.insert(out.end(), unverified.begin(), unverified.end());
  return ok_status();
}

// The image's SBOM from its own attestation (CycloneDX or SPDX JSON predicate) when one verifies
// with `options`; nullopt, with the reason in `source.note`, when none does. Each type asked for
// is recorded in `checks`.
Result<std::optional<sbom::Sbom>> attested_sbom(const AddOptions& o, const cosign::VerifyOptions& options,
                                                const oci::ImageRef& ref, const oci::Digest& digest,
                                                inventory::SbomSource& source,
                                                std::vector<inventory::ImageVerification>& checks) {
  std::vector<std::string> types = o.sbom_types;
  if (types.empty()) types = {"cyclonedx", "spdxjson"};
  std::vector<std::string> why;
  // Of every attestation that verifies and holds an SBOM, the newest (by its verified signing
  // time) is the image's: a rebuilt or re-scanned SBOM attested later replaces the earlier one,
  // as a registry's latest scan does. One without a verified time counts as oldest.
  std::optional<sbom::Sbom> best;
  std::optional<UnixSeconds> best_time;
  for (const auto& type : types) {
    VOUCH_ASSIGN_OR_RETURN(std::string uri, intoto::predicate_type_for(type));
    auto result = cosign::verify_image_attestations(ref, uri, options);
    record(result.ok() ? &*result : nullptr, result.ok() ? nullptr : &result.error(), "attestation", uri, options,
           digest, checks);
    if (!result.ok()) {
      why.push_back(fmt::format("{}: {}", type, result.error().message));
      continue;
    }
    // The tag may have moved since the image was read: only an attestation of that digest counts.
    if (result->digest != digest) {
      why.push_back(fmt::format("{}: attestations checked for {}, not {}", type, result->digest.str(), digest.str()));
      continue;
    }
    if (!result->ok()) {
      why.push_back(fmt::format("{}: {}", type, result->failure_summary()));
      continue;
    }
    for (const auto& v : result->verified) {
      const bj::value* predicate = v.json.is_object() ? v.json.as_object().if_contains("predicate") : nullptr;
      if (!predicate) {
        why.push_back(fmt::format("{}: {}: the statement has no predicate", type, v.source));
        continue;
      }
      if (best && (!v.signed_at || (best_time && *v.signed_at <= *best_time))) continue;
      auto doc = sbom::read_sbom(json::serialize(*predicate));
      if (!doc.ok()) {
        why.push_back(fmt::format("{}: {}: the predicate is not an SBOM: {}", type, v.source, doc.error().message));
        continue;
      }
      source.kind = "attestation";
      source.predicate_type = v.predicate_type.empty() ? uri : v.predicate_type;
      source.digest = oci::Digest::sha256_of(as_bytes(v.payload)).str();
      source.location = v.source;
      source.signer = signer_of(v, options);
      source.signed_at = v.signed_at ? format_rfc3339(*v.signed_at) : std::string();
      source.note.clear();
      best = std::move(doc).value();
      best_time = v.signed_at;
    }
  }
  if (best) return best;
  std::string note = "no SBOM attestation verified";
  for (const auto& w : why) note += "; " + w;
  source.note = printable_line(note);
  return std::optional<sbom::Sbom>();
}

Status inventory_add(const AddOptions& o) {
  // No flag is ignored: the attestation flags need a key or an identity, and an image.
  if ((o.verify.any() || !o.sbom_types.empty()) && !o.verify.given())
    return invalid_input("the attestation flags need --key, or --certificate-identity[-regexp] with "
                         "--certificate-oidc-issuer[-regexp]");
  if (o.verify.any() && o.target.starts_with("sbom:"))
    return invalid_input("--key and --certificate-identity apply to images, not to sbom:FILE");
  inventory::Image image;
  image.last_seen = now_unix();
  image.tags = o.tags;
  image.platform = o.platform;
  if (!o.pushed.empty()) {
    VOUCH_ASSIGN_OR_RETURN(UnixSeconds pushed, parse_rfc3339(o.pushed));
    image.pushed = pushed;
  }
  sbom::Sbom doc;
  if (o.target.starts_with("sbom:")) {
    std::string path = o.target.substr(5);
    VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(path, sbom::kMaxSbomBytes));
    auto parsed = sbom::read_sbom(text);
    if (!parsed.ok()) return std::move(parsed).error().context(path);
    doc = std::move(parsed).value();
    // An SBOM alone has no image digest: the SBOM's own stands in for it.
    image.digest = oci::Digest::sha256_of(as_bytes(text)).str();
    image.repository = o.repository.empty() ? "sbom:" + fs::path(path).filename().string() : o.repository;
    image.sbom_source.kind = "file";
    image.sbom_source.digest = image.digest;
  } else {
    oci::StoreOptions so;
    so.allow_insecure = o.allow_insecure;
    so.timeout = o.timeout.duration();
    std::optional<oci::Platform> platform;
    if (!o.platform.empty()) {
      VOUCH_ASSIGN_OR_RETURN(oci::Platform p, oci::parse_platform(o.platform));
      platform = p;
    }
    VOUCH_ASSIGN_OR_RETURN(oci::ImageRef ref, oci::parse_image_ref(o.target));
    VOUCH_ASSIGN_OR_RETURN(auto store, oci::open_store(ref, so, false));
    VOUCH_ASSIGN_OR_RETURN(oci::Manifest root, store->get_root());
    image.digest = root.digest.str();
    if (ref.transport == oci::Transport::kRegistry) {
      image.repository = ref.reference.registry + "/" + ref.reference.repository;
      if (ref.reference.tag && std::find(image.tags.begin(), image.tags.end(), *ref.reference.tag) == image.tags.end())
        image.tags.push_back(*ref.reference.tag);
    } else {
      image.repository = ref.str();
    }
    if (!o.repository.empty()) image.repository = o.repository;
    // (verification flags without a key or an identity are refused before the image is read)
    VOUCH_ASSIGN_OR_RETURN(auto options, verify_options(o));
    std::optional<sbom::Sbom> attested;
    if (options) {
      VOUCH_RETURN_IF_ERROR(verify_signatures_and_provenance(*options, ref, root.digest, image.verifications));
      VOUCH_ASSIGN_OR_RETURN(attested, attested_sbom(o, *options, ref, root.digest, image.sbom_source, image.verifications));
    } else {
      image.sbom_source.note = "no --key or --certificate-identity given: attestations not used";
    }
    if (attested) {
      doc = std::move(*attested);
    } else {
      Progress progress;
      progress.phase("reading image layers");
      auto catalogued = sbom::catalog_image(*store, platform, o.target);
      progress.finish();
      if (!catalogued.ok()) return std::move(catalogued).error();
      doc = std::move(catalogued).value();
    }
    if (image.platform.empty()) image.platform = platform ? platform->str() : oci::host_platform().str();
  }
  VOUCH_ASSIGN_OR_RETURN(auto vulns, vuln::open_sqlite_store(o.flags.vuln_file(), false));
  VOUCH_ASSIGN_OR_RETURN(auto store, o.flags.open());
  VOUCH_ASSIGN_OR_RETURN(inventory::Reconciled r,
                         inventory::add_and_scan(*store, *vulns, o.flags.vuln_file(), image, doc));
  VOUCH_ASSIGN_OR_RETURN(auto stored, store->image(image.digest));
  if (o.output == "json") {
    bj::array opened, reopened, closed;
    for (const auto& f : r.opened) opened.push_back(inventory::finding_json(f));
    for (const auto& f : r.reopened) reopened.push_back(inventory::finding_json(f));
    for (const auto& f : r.closed) closed.push_back(inventory::finding_json(f));
    print_json(bj::object{{"image", stored ? inventory::image_json(*stored) : bj::object{}},
                          {"opened", std::move(opened)},
                          {"reopened", std::move(reopened)},
                          {"closed", std::move(closed)},
                          {"stillActive", r.still_active}});
    return ok_status();
  }
  fmt::print("{} {}: {} packages, {} findings opened, {} reopened, {} closed, {} still open\n", image.repository,
             image.digest, doc.packages.size(), r.opened.size(), r.reopened.size(), r.closed.size(), r.still_active);
  const inventory::SbomSource& src = image.sbom_source;
  if (src.kind == "attestation")
    fmt::print("SBOM from the attestation {} ({}, {}) signed by {}{}\n", src.digest, src.predicate_type,
               printable_line(src.location), printable_line(src.signer),
               src.signed_at.empty() ? "" : " at " + src.signed_at);
  else if (src.kind == "catalogued")
    fmt::print("SBOM catalogued by vouch: {}\n", src.note);
  for (const auto& v : image.verifications) {
    std::string what = v.kind + (v.predicate_type.empty() ? "" : " " + v.predicate_type);
    if (!v.verified) {
      fmt::print("{}: not verified: {}\n", what, v.reason);
      continue;
    }
    std::string logged;
    for (int64_t i : v.log_indexes) logged += (logged.empty() ? ", log index " : " ") + std::to_string(i);
    fmt::print("{}: verified, signed by {}{}{}\n", what, v.signer, v.signed_at.empty() ? "" : " at " + v.signed_at, logged);
  }
  print_reconciled(r, image.digest);
  return ok_status();
}

// ---- images

struct ImagesOptions {
  StoreFlags flags;
  bool all = false;
  std::string output = "table";
};

Status inventory_images(const ImagesOptions& o) {
  VOUCH_ASSIGN_OR_RETURN(auto store, o.flags.open());
  VOUCH_ASSIGN_OR_RETURN(auto images, store->images(o.all));
  if (o.output == "json") {
    bj::array a;
    for (const auto& i : images) a.push_back(inventory::image_json(i));
    print_json(a);
    return ok_status();
  }
  fmt::print("{:<40} {:<14} {:<24} {:>8} {:<8} {}\n", "REPOSITORY", "DIGEST", "TAGS", "PACKAGES", "ACTIVE", "LAST SEEN");
  for (const auto& i : images)
    fmt::print("{:<40} {:<14} {:<24} {:>8} {:<8} {}\n", printable_line(i.repository), short_digest(i.digest),
               printable_line(join(i.tags)), i.packages, i.active ? "yes" : "no", format_rfc3339(i.last_seen));
  return ok_status();
}

// ---- query

struct QueryOptions {
  StoreFlags flags;
  std::string purl;
  std::string version;
  bool all = false;
  std::string output = "table";
};

Status inventory_query(const QueryOptions& o) {
  VOUCH_ASSIGN_OR_RETURN(auto store, o.flags.open());
  VOUCH_ASSIGN_OR_RETURN(inventory::QueryResult r, inventory::query_packages(*store, o.purl, o.version, o.all));
  for (const auto& n : r.notes) fmt::print(stderr, "warning: not ordered: {}\n", printable_line(n));
  if (o.output == "json") {
    bj::array a;
    for (const auto& h : r.hits)
      a.push_back(bj::object{{"image", bj::object{{"digest", h.digest}, {"repository", h.repository}}},
                             {"package", bj::object{{"id", h.package_id},
                                                    {"name", h.name},
                                                    {"version", h.version},
                                                    {"type", h.type},
                                                    {"purl", h.purl}}}});
    print_json(bj::object{{"purl", o.purl}, {"version", o.version}, {"matches", std::move(a)}});
    return ok_status();
  }
  if (r.hits.empty()) {
    fmt::print("no image holds {}{}\n", printable_line(o.purl), o.version.empty() ? "" : " " + printable_line(o.version));
    return ok_status();
  }
  fmt::print("{:<40} {:<14} {:<32} {}\n", "REPOSITORY", "DIGEST", "PACKAGE", "VERSION");
  for (const auto& h : r.hits)
    fmt::print("{:<40} {:<14} {:<32} {}\n", printable_line(h.repository), short_digest(h.digest),
               printable_line(h.name), printable_line(h.version));
  return ok_status();
}

// ---- findings and affected

struct FindingsOptions {
  StoreFlags flags;
  std::string image;
  std::string severity;
  std::string status;
  std::string vulnerability;
  std::string output = "table";
};

Status inventory_findings(const FindingsOptions& o) {
  VOUCH_ASSIGN_OR_RETURN(auto store, o.flags.open());
  inventory::FindingFilter filter;
  // --image: a digest, or a repository (every image of it) or repository:tag.
  std::optional<std::set<std::string>> digests;
  if (o.image.starts_with("sha256:")) {
    filter.digest = o.image;
  } else if (!o.image.empty()) {
    VOUCH_ASSIGN_OR_RETURN(auto images, store->images(true));
    digests.emplace();
    for (const auto& i : images) {
      bool tagged = std::any_of(i.tags.begin(), i.tags.end(),
                                [&](const std::string& t) { return i.repository + ":" + t == o.image; });
      if (i.repository == o.image || tagged) digests->insert(i.digest);
    }
    if (digests->empty()) return not_found(fmt::format("inventory: no image {}", o.image));
  }
  if (!o.status.empty()) {
    VOUCH_ASSIGN_OR_RETURN(inventory::FindingStatus s, inventory::parse_status(o.status));
    filter.status = s;
  }
  if (!o.severity.empty()) {
    VOUCH_RETURN_IF_ERROR(vuln::parse_severity(o.severity));
    filter.min_severity = o.severity;
  }
  filter.vulnerability = o.vulnerability;
  VOUCH_ASSIGN_OR_RETURN(auto rows, store->findings(filter));
  if (digests)
    rows.erase(std::remove_if(rows.begin(), rows.end(), [&](const auto& f) { return !digests->count(f.digest); }),
               rows.end());
  if (o.output == "json") {
    bj::array a;
    for (const auto& f : rows) a.push_back(inventory::finding_json(f));
    print_json(a);
    return ok_status();
  }
  print_findings_table(rows);
  return ok_status();
}

struct AffectedOptions {
  StoreFlags flags;
  std::string id;
  bool closed = false;
  std::string output = "table";
};

Status inventory_affected(const AffectedOptions& o) {
  VOUCH_ASSIGN_OR_RETURN(auto store, o.flags.open());
  inventory::FindingFilter filter;
  filter.vulnerability = o.id;
  VOUCH_ASSIGN_OR_RETURN(auto rows, store->findings(filter));
  std::vector<inventory::FindingRow> kept;
  for (auto& f : rows)
    if (o.closed || f.status != inventory::FindingStatus::kClosed) kept.push_back(std::move(f));
  if (o.output == "json") {
    std::set<std::string> images;
    bj::array a;
    for (const auto& f : kept) {
      images.insert(f.digest);
      a.push_back(inventory::finding_json(f));
    }
    print_json(bj::object{{"vulnerability", o.id}, {"images", images.size()}, {"findings", std::move(a)}});
    return ok_status();
  }
  print_findings_table(kept);
  return ok_status();
}

// ---- rescan and suppress

struct RescanOptions {
  StoreFlags flags;
  int retention_days = 0;
  int reopen_days = static_cast<int>(inventory::kReopenWithinSeconds / 86400);
  int delete_closed_days = inventory::kDeleteClosedAfterDays;
  bool full = false;
  std::string output = "text";
};

Status inventory_rescan(const RescanOptions& o) {
  VOUCH_ASSIGN_OR_RETURN(auto vulns, vuln::open_sqlite_store(o.flags.vuln_file(), false));
  VOUCH_ASSIGN_OR_RETURN(auto store, o.flags.open());
  inventory::RescanOptions ro;
  ro.retention_days = o.retention_days;
  ro.reopen_days = o.reopen_days;
  ro.delete_closed_days = o.delete_closed_days;
  ro.full = o.full;
  VOUCH_ASSIGN_OR_RETURN(inventory::RescanResult r, inventory::rescan(*store, *vulns, o.flags.vuln_file(), ro));
  VOUCH_ASSIGN_OR_RETURN(int64_t pending, store->pending_events());
  if (o.output == "json") {
    print_json(rescan_json(r, pending));
    return ok_status();
  }
  fmt::print("{}\n", rescan_summary(r, pending));
  return ok_status();
}

struct SuppressOptions {
  StoreFlags flags;
  std::string id;
  std::string image;
  std::string reason;
  bool undo = false;
};

Status inventory_suppress(const SuppressOptions& o) {
  VOUCH_ASSIGN_OR_RETURN(auto store, o.flags.open());
  if (!o.undo && o.reason.empty()) return invalid_input("inventory suppress: --reason is required");
  VOUCH_ASSIGN_OR_RETURN(size_t n, store->suppress(o.id, o.image, o.reason, !o.undo, now_unix()));
  fmt::print("{} findings {}\n", n, o.undo ? "active again" : "suppressed");
  return ok_status();
}

// ---- alerts

struct AlertsOptions {
  StoreFlags flags;
  std::string sink = "stdout";
  std::string min_severity = "high";
  bool once = false;
  double interval = 5;
  int64_t backoff = 2;
};

std::atomic<bool> stop_alerts{false};

Status inventory_alerts(const AlertsOptions& o) {
  VOUCH_ASSIGN_OR_RETURN(auto store, o.flags.open());
  VOUCH_ASSIGN_OR_RETURN(auto sink, inventory::make_sink(o.sink));
  inventory::DeliveryOptions d;
  if (o.min_severity == "any") {
    d.min_severity = vuln::Severity::kUnknown;
  } else {
    VOUCH_ASSIGN_OR_RETURN(d.min_severity, vuln::parse_severity(o.min_severity));
  }
  d.initial_backoff_seconds = o.backoff;
  std::signal(SIGINT, [](int) { stop_alerts = true; });
  std::signal(SIGTERM, [](int) { stop_alerts = true; });
  while (true) {
    VOUCH_ASSIGN_OR_RETURN(inventory::DeliveryResult r, inventory::deliver_due(*store, *sink, d, now_unix()));
    if (r.failed) fmt::print(stderr, "warning: alert delivery failed, will retry: {}\n", printable_line(r.last_error));
    if (o.once) {
      VOUCH_ASSIGN_OR_RETURN(int64_t pending, store->pending_events());
      fmt::print(stderr, "{} alerts delivered, {} below {}, {} pending\n", r.delivered, r.below_threshold,
                 o.min_severity, pending);
      if (r.failed) return io_error(fmt::format("inventory alerts: {}", r.last_error));
      return ok_status();
    }
    // A full batch: more may be due at once.
    if (r.delivered + r.below_threshold >= d.batch) continue;
    for (double waited = 0; waited < o.interval && !stop_alerts; waited += 0.1)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (stop_alerts) return ok_status();
  }
}

}  // namespace

bj::object rescan_json(const inventory::RescanResult& r, int64_t pending_alerts) {
  bj::array expired;
  for (const auto& e : r.expired) expired.emplace_back(e);
  return bj::object{{"fromUpdate", r.from_seq},
                    {"toUpdate", r.to_seq},
                    {"changedRecords", r.changed_records},
                    {"images", r.images},
                    {"packages", r.packages},
                    {"opened", r.opened},
                    {"reopened", r.reopened},
                    {"closed", r.closed},
                    {"deletedClosed", r.purged},
                    {"expired", std::move(expired)},
                    {"pendingAlerts", pending_alerts},
                    {"seconds", r.seconds}};
}

std::string rescan_summary(const inventory::RescanResult& r, int64_t pending_alerts) {
  return fmt::format("updates {}..{}: {} records changed; {} images ({} packages) matched again: {} findings opened, "
                     "{} reopened, {} closed; {} images expired; {} closed findings deleted; {} alerts pending "
                     "({:.2f} s)",
                     r.from_seq, r.to_seq, r.changed_records, r.images, r.packages, r.opened, r.reopened, r.closed,
                     r.expired.size(), r.purged, pending_alerts, r.seconds);
}

// ---- watch

struct WatchOptions {
  StoreFlags flags;
  std::string registry;
  std::vector<std::string> repositories;  // globs; none = every repository
  std::string listen = "127.0.0.1:5050";
  int poll_interval = 300;
  bool allow_insecure = false;
  TimeoutFlag timeout;
  CosignVerifyFlags verify;
  std::vector<std::string> sbom_types;
  // Every update_interval seconds (0: never), `db update` from these sources, then a rescan.
  int update_interval = 0;
  std::vector<std::string> update_sources;
};

// One digest to catalogue: from a push notification or a poll.
struct WatchItem {
  std::string repository, digest, tag;
};

// "http://127.0.0.1:5000/" -> "127.0.0.1:5000".
std::string registry_host(std::string_view url) {
  if (size_t scheme = url.find("://"); scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  while (url.ends_with('/')) url.remove_suffix(1);
  return std::string(url);
}

bool repository_watched(const WatchOptions& o, const std::string& repository) {
  if (o.repositories.empty()) return true;
  for (const auto& glob : o.repositories)
    if (::fnmatch(glob.c_str(), repository.c_str(), 0) == 0) return true;
  return false;
}

bool is_manifest_media_type(std::string_view t) {
  return t == oci::media_type::kOciManifest || t == oci::media_type::kOciIndex ||
         t == oci::media_type::kDockerManifest || t == oci::media_type::kDockerManifestList;
}

// The manifest pushes of a docker-registry notification envelope
// ({"events":[{"action":"push","target":{"mediaType","digest","repository","tag"}}]}) in the
// watched repositories; blob pushes, pulls and deletes are left out.
Result<std::vector<WatchItem>> pushed_manifests(const WatchOptions& o, std::string_view body) {
  boost::system::error_code ec;
  bj::value v = bj::parse(body, ec);
  if (ec || !v.is_object()) return invalid_input("notification: not a JSON object");
  const bj::value* events = v.as_object().if_contains("events");
  if (!events || !events->is_array()) return invalid_input("notification: no events array");
  std::vector<WatchItem> out;
  auto str = [](const bj::object& obj, std::string_view key) -> std::string {
    const bj::value* x = obj.if_contains(key);
    return x && x->is_string() ? std::string(x->as_string()) : std::string();
  };
  for (const auto& e : events->as_array()) {
    if (!e.is_object() || str(e.as_object(), "action") != "push") continue;
    const bj::value* target = e.as_object().if_contains("target");
    if (!target || !target->is_object()) continue;
    const bj::object& t = target->as_object();
    if (!is_manifest_media_type(str(t, "mediaType"))) continue;
    WatchItem item{str(t, "repository"), str(t, "digest"), str(t, "tag")};
    if (item.repository.empty() || !oci::Digest::parse(item.digest).ok()) continue;
    if (repository_watched(o, item.repository)) out.push_back(std::move(item));
  }
  return out;
}

// Serializes catalogue work: notifications queue digests, polls add the tags' digests, one
// thread catalogues and scans them in turn.
class WatchQueue {
 public:
  void push(WatchItem item) {
    std::lock_guard lock(mu_);
    items_.push_back(std::move(item));
    cv_.notify_one();
  }
  void stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    cv_.notify_one();
  }
  // Waits up to `wait` for items; nullopt once stopped.
  std::optional<std::vector<WatchItem>> take(std::chrono::seconds wait) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait, [&] { return stopped_ || !items_.empty(); });
    if (stopped_) return std::nullopt;
    return std::exchange(items_, {});
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WatchItem> items_;
  bool stopped_ = false;
};

// The tags of every watched repository named without wildcards, with their digests.
std::vector<WatchItem> poll_tags(const WatchOptions& o, const std::string& host) {
  std::vector<WatchItem> out;
  oci::RegistryOptions ro;
  ro.allow_insecure = o.allow_insecure;
  ro.timeout = o.timeout.duration();
  oci::RegistryClient client(host, ro, false);
  for (const auto& repository : o.repositories) {
    if (repository.find_first_of("*?[") != std::string::npos) continue;
    auto tags = client.list_tags(repository);
    if (!tags.ok()) {
      server_log("poll failed", {{"repository", repository}, {"error", tags.error().message}});
      continue;
    }
    for (const auto& tag : *tags) {
      auto m = client.get_manifest(repository, tag);
      if (!m.ok() || !*m) continue;
      out.push_back({repository, (*m)->digest.str(), tag});
    }
  }
  return out;
}

Status watch(const WatchOptions& o) {
  if (o.registry.empty()) return invalid_input("--registry is required");
  if (o.poll_interval < 1) return invalid_input("--poll-interval: at least 1 second");
  const std::string host = registry_host(o.registry);
  // Open both stores once up front so that a wrong --store or --db fails at start.
  { VOUCH_ASSIGN_OR_RETURN(auto vulns, vuln::open_sqlite_store(o.flags.vuln_file(), false)); }
  { VOUCH_ASSIGN_OR_RETURN(auto store, o.flags.open()); }
  if (o.verify.any() || !o.sbom_types.empty()) {
    if (!o.verify.given())
      return invalid_input("the attestation flags need --key, or --certificate-identity[-regexp] with "
                           "--certificate-oidc-issuer[-regexp]");
    VOUCH_RETURN_IF_ERROR(cosign_verify_options(o.verify, oci::StoreOptions{}, o.timeout.deadline()));
  }
  auto queue = std::make_shared<WatchQueue>();
  net::HttpServerOptions http;
  http.listen = o.listen;
  http.server_name = "vouch-watch";
  auto handler = [&o, queue](net::HttpRequest req, net::Responder respond) {
    net::HttpResponse res;
    if (req.method != "POST") {
      res.status = 405;
      res.body = R"({"error":"POST notifications here"})";
      respond(std::move(res));
      return;
    }
    auto items = pushed_manifests(o, req.body);
    if (!items.ok()) {
      res.status = 400;
      res.body = bj::serialize(bj::object{{"error", items.error().message}});
      respond(std::move(res));
      return;
    }
    for (auto& item : *items) queue->push(std::move(item));
    // The registry retries until it gets a 2xx: acknowledge once queued.
    res.body = "{}";
    respond(std::move(res));
  };
  VOUCH_ASSIGN_OR_RETURN(auto server, net::HttpServer::start(http, handler));
  server_log("watching registry", {{"registry", host}, {"address", server->address()}});
  std::thread worker([&o, host, queue] {
    std::set<std::string> done;  // repository@digest:tag already catalogued
    auto next_poll = std::chrono::steady_clock::now();
    auto next_update = o.update_interval > 0 ? std::chrono::steady_clock::now()
                                             : std::chrono::steady_clock::time_point::max();
    for (;;) {
      if (std::chrono::steady_clock::now() >= next_update) {
        // The same worker as the catalogue: an update and its rescan never race an image being added.
        DbUpdateOptions u;
        u.db = o.flags.db;
        u.sources = o.update_sources;
        u.inventory = o.flags.store_url();
        u.timeout.seconds = o.timeout.seconds;
        int rc = run_db_update(u);
        server_log(rc == kExitOk ? "database updated, inventory rescanned" : "database update failed",
                   {{"exitCode", rc}});
        next_update = std::chrono::steady_clock::now() + std::chrono::seconds(o.update_interval);
      }
      std::vector<WatchItem> items;
      if (std::chrono::steady_clock::now() >= next_poll) {
        items = poll_tags(o, host);
        next_poll = std::chrono::steady_clock::now() + std::chrono::seconds(o.poll_interval);
      }
      auto wait = std::chrono::duration_cast<std::chrono::seconds>(std::min(next_poll, next_update) -
                                                                   std::chrono::steady_clock::now());
      if (items.empty()) {
        auto taken = queue->take(std::max(wait, std::chrono::seconds(1)));
        if (!taken) return;
        items = std::move(*taken);
      }
      for (const auto& item : items) {
        if (!done.insert(item.repository + "@" + item.digest + ":" + item.tag).second) continue;
        AddOptions add;
        add.flags = o.flags;
        add.target = host + "/" + item.repository + "@" + item.digest;
        add.repository = host + "/" + item.repository;
        if (!item.tag.empty()) add.tags.push_back(item.tag);
        add.allow_insecure = o.allow_insecure;
        add.timeout.seconds = o.timeout.seconds;
        add.verify = o.verify;
        add.sbom_types = o.sbom_types;
        add.output = "json";
        Status st = inventory_add(add);
        if (st.ok()) {
          server_log("catalogued", {{"repository", item.repository}, {"digest", item.digest}, {"tag", item.tag}});
        } else {
          done.erase(item.repository + "@" + item.digest + ":" + item.tag);  // tried again on the next push or poll
          server_log("catalogue failed", {{"repository", item.repository}, {"digest", item.digest},
                                          {"error", st.error().message}});
        }
      }
    }
  });
  server->run_until_signal();
  queue->stop();
  worker.join();
  server_log("watch stopped", {});
  return ok_status();
}

void register_inventory_commands(CLI::App& app, int& exit_code) {
  auto* inv = app.add_subcommand(
      "inventory",
      "The image inventory: images by digest with their SBOM packages indexed, scanned when added\n"
      "and rescanned after `vouch db update` (only images holding a package a changed record names);\n"
      "findings ACTIVE, SUPPRESSED or CLOSED with first and last seen. SQLite by default, PostgreSQL\n"
      "with --store postgres://….");
  inv->require_subcommand(1);

  auto a = std::make_shared<AddOptions>();
  auto* add = inv->add_subcommand(
      "add", "Store an image and scan it at once. Its packages come from its own SBOM attestation (CycloneDX\n"
             "or SPDX JSON) when one verifies with --key or --certificate-identity/--certificate-oidc-issuer\n"
             "(as verify-attestation); otherwise vouch catalogs the image. sbom:FILE takes an SBOM file.");
  a->flags.add(add);
  add->add_option("--repository", a->repository, "Repository to file it under (default: the reference's)");
  add->add_option("--tag", a->tags, "Tag (repeatable)");
  add->add_option("--platform", a->platform, "os/arch[/variant] to pick from an index");
  add->add_option("--pushed", a->pushed, "When the image was pushed (RFC 3339)");
  add->add_flag("--allow-insecure-registry", a->allow_insecure,
                "Allow plain HTTP and unverified TLS for registries other than localhost");
  a->timeout.add(add);
  a->verify.add(add, "trusted_root.json for keyless attestations (default: $SIGSTORE_ROOT_FILE, else Sigstore's over TUF)");
  add->add_option("--type", a->sbom_types,
                  "SBOM attestation predicate to look for: cyclonedx or spdxjson (repeatable; default: both)")
      ->check(CLI::IsMember({"cyclonedx", "spdxjson"}));
  add_output_flag(add, a->output, {"table", "json"});
  add->add_option("TARGET", a->target, "IMAGE or sbom:FILE")->required();
  on_run(add, exit_code, [a] { return inventory_add(*a); });

  auto im = std::make_shared<ImagesOptions>();
  auto* images = inv->add_subcommand("images", "List the images of the inventory.");
  im->flags.add(images);
  images->add_flag("--all", im->all, "Include inactive images");
  add_output_flag(images, im->output, {"table", "json"});
  on_run(images, exit_code, [im] { return inventory_images(*im); });

  auto q = std::make_shared<QueryOptions>();
  auto* query = inv->add_subcommand(
      "query", "Which images hold a package: --purl pkg:TYPE/[NAMESPACE/]NAME and a --version constraint\n"
               "('<2.17.0', '>=2.0,<2.17.0') in the ecosystem's own version ordering.");
  q->flags.add(query);
  query->add_option("--purl", q->purl, "The package (its version, if any, is ignored)")->required();
  query->add_option("--version", q->version, "Constraint: comparisons (<, <=, >, >=, =, !=) joined by ','");
  query->add_flag("--all", q->all, "Include inactive images");
  add_output_flag(query, q->output, {"table", "json"});
  on_run(query, exit_code, [q] { return inventory_query(*q); });

  auto af = std::make_shared<AffectedOptions>();
  auto* affected = inv->add_subcommand("affected", "The images and packages a vulnerability (CVE, GHSA, OSV id or alias) affects.");
  af->flags.add(affected);
  affected->add_flag("--closed", af->closed, "Include closed findings");
  add_output_flag(affected, af->output, {"table", "json"});
  affected->add_option("ID", af->id, "Vulnerability id or alias")->required();
  on_run(affected, exit_code, [af] { return inventory_affected(*af); });

  auto fi = std::make_shared<FindingsOptions>();
  auto* findings = inv->add_subcommand("findings", "The findings of the inventory, most severe first.");
  fi->flags.add(findings);
  findings->add_option("--image", fi->image, "Only this image: a digest, a repository or repository:tag");
  findings->add_option("--severity", fi->severity, "At least this severity (low, medium, high, critical)");
  findings->add_option("--status", fi->status, "active, suppressed or closed");
  findings->add_option("--vulnerability", fi->vulnerability, "Only this vulnerability id or alias");
  add_output_flag(findings, fi->output, {"table", "json"});
  on_run(findings, exit_code, [fi] { return inventory_findings(*fi); });

  auto rs = std::make_shared<RescanOptions>();
  auto* rescan = inv->add_subcommand(
      "rescan", "Match again the images holding a package named by the records the database updates since the\n"
                "last rescan changed: new findings open, findings that no longer match close. With\n"
                "--retention-days, images neither pushed nor seen that long go inactive first.");
  rs->flags.add(rescan);
  rescan->add_option("--retention-days", rs->retention_days, "Retention in days (0: keep every image)")
      ->check(CLI::NonNegativeNumber);
  rescan->add_option("--reopen-days", rs->reopen_days,
                     "A closed finding that matches again within this many days of closing reopens; later, a new\n"
                     "finding opens")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  rescan->add_option("--delete-closed-days", rs->delete_closed_days,
                     "Delete closed findings this many days after closing (0: keep them)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  rescan->add_flag("--full", rs->full, "Match every active image again");
  add_output_flag(rescan, rs->output);
  on_run(rescan, exit_code, [rs] { return inventory_rescan(*rs); });

  auto al = std::make_shared<AlertsOptions>();
  auto* alerts = inv->add_subcommand(
      "alerts", "Deliver the findings that opened or closed (at or above --min-severity) from the outbox to a\n"
                "sink: stdout (JSON lines), an http(s):// URL (POST of a CloudEvent) or exec:COMMAND (the event\n"
                "on its stdin). Failed deliveries are retried with backoff, also after a restart.");
  al->flags.add(alerts);
  alerts->add_option("--sink", al->sink, "stdout, http(s)://URL or exec:COMMAND");
  alerts->add_option("--min-severity", al->min_severity, "Alert at or above this severity (any: also unscored ones)")
      ->check(CLI::IsMember({"any", "low", "medium", "high", "critical"}));
  alerts->add_flag("--once", al->once, "Deliver what is due and exit (exit 2 when a delivery failed)");
  alerts->add_option("--interval", al->interval, "Seconds between rounds when running on");
  alerts->add_option("--backoff", al->backoff, "Seconds before the first retry of a failed delivery (doubling)");
  on_run(alerts, exit_code, [al] { return inventory_alerts(*al); });

  auto su = std::make_shared<SuppressOptions>();
  auto* suppress = inv->add_subcommand("suppress", "Suppress the findings of a vulnerability (or --undo it).");
  su->flags.add(suppress);
  suppress->add_option("--image", su->image, "Only on this image (digest)");
  suppress->add_option("--reason", su->reason, "Why (kept with the findings)");
  suppress->add_flag("--undo", su->undo, "Make the suppressed findings active again");
  suppress->add_option("ID", su->id, "Vulnerability id or alias")->required();
  on_run(suppress, exit_code, [su] { return inventory_suppress(*su); });

  auto w = std::make_shared<WatchOptions>();
  auto* wcmd = app.add_subcommand(
      "watch", "Catalogue and scan every new image of a registry into the inventory: receives docker-registry's\n"
               "push notifications (notifications.endpoints url: http://ADDR/) and polls the tags of the\n"
               "--repository names without wildcards every --poll-interval seconds.");
  w->flags.add(wcmd);
  wcmd->add_option("--registry", w->registry, "The registry: HOST:PORT or http(s)://HOST:PORT")->required();
  wcmd->add_option("--repository", w->repositories, "Repository glob to watch (repeatable; default: all)");
  wcmd->add_option("--listen", w->listen, "HOST:PORT for the notifications endpoint")->capture_default_str();
  wcmd->add_option("--poll-interval", w->poll_interval, "Seconds between tag polls")->capture_default_str();
  wcmd->add_flag("--allow-insecure-registry", w->allow_insecure,
                 "Allow plain HTTP and unverified TLS for registries other than localhost");
  w->timeout.add(wcmd);
  wcmd->add_option("--db-update-interval", w->update_interval,
                   "Every this many seconds (0: never; the first at start), `db update` from --db-source and\n"
                   "rescan the inventory")
      ->check(CLI::NonNegativeNumber);
  wcmd->add_option("--db-source", w->update_sources,
                   "Where --db-update-interval updates from (repeatable; default: OSV's public exports)");
  w->verify.add(wcmd, "trusted_root.json for keyless attestations (default: $SIGSTORE_ROOT_FILE, else Sigstore's over TUF)");
  wcmd->add_option("--type", w->sbom_types,
                   "SBOM attestation predicate to look for: cyclonedx or spdxjson (repeatable; default: both)")
      ->check(CLI::IsMember({"cyclonedx", "spdxjson"}));
  on_run(wcmd, exit_code, [w] { return watch(*w); });
}

}  // namespace vouch::cli
