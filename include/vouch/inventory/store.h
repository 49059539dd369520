// The image inventory: images by digest (repository, tags, platform, when pushed and last seen)
// with their SBOM packages indexed by purl type and name and by the key their advisories are
// filed under, the findings of each image with their lifecycle (ACTIVE, SUPPRESSED, CLOSED;
// first and last seen), and an outbox of finding events for alert sinks, written in the same
// transaction as the findings so that no event is lost or invented. SQLite by default,
// PostgreSQL for a fleet, behind one interface.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/result.h"
#include "vouch/base/time.h"
#include "vouch/sbom/package.h"

namespace vouch::inventory {

// Where an image's packages came from: catalogued by vouch from its layers, an SBOM file given
// for it, or the image's own SBOM attestation, verified.
struct SbomSource {
  std::string kind = "catalogued";  // "catalogued", "file", "attestation"
  std::string predicate_type;       // attestation: https://cyclonedx.org/bom, https://spdx.dev/Document
  std::string digest;               // attestation: "sha256:…" of the signed statement; file: of the file
  std::string location;             // attestation: where it was found ("referrer sha256:…")
  std::string signer;               // attestation: "key sha256:<fingerprint>", or "<identity> (<issuer>)"
  std::string signed_at;            // attestation: its verified signing time (RFC 3339), when it has one
  std::string note;                 // catalogued: why no attestation was used
};
boost::json::object sbom_source_json(const SbomSource& source);
SbomSource sbom_source_from_json(const boost::json::value& value);

// One check vouch made of an image when it was added (with verification flags): its cosign
// signatures, an SBOM attestation, or its SLSA provenance, as `verify`, `verify-attestation`
// and `provenance verify` answer them.
struct ImageVerification {
  std::string kind;            // "signature", "attestation", "provenance"
  std::string predicate_type;  // attestations and provenance
  bool verified = false;
  std::string signer;          // as SbomSource::signer
  std::string signed_at;       // RFC 3339, when the signature carries a verified time
  std::vector<int64_t> log_indexes;  // transparency log entries that verified
  std::string location;        // where it was found
  std::string reason;          // why not, when not verified
};
boost::json::object image_verification_json(const ImageVerification& v);
ImageVerification image_verification_from_json(const boost::json::value& value);

struct Image {
  std::string digest;      // "sha256:…" of the manifest, or of the SBOM for sbom:FILE entries
  std::string repository;  // "registry/repo", or "sbom:<file>"
  std::vector<std::string> tags;
  std::string platform;    // "linux/amd64"
  std::optional<UnixSeconds> pushed;
  UnixSeconds first_seen = 0;
  UnixSeconds last_seen = 0;
  bool active = true;      // inactive images are not rescanned (retention)
  std::string distro;      // "debian 12"
  int64_t packages = 0;
  SbomSource sbom_source;
  std::vector<ImageVerification> verifications;  // from the last time it was added
};

// A package of an image, as indexed.
struct PackageHit {
  std::string digest, repository;
  std::string package_id, name, version, type, purl;
};

enum class FindingStatus { kActive, kSuppressed, kClosed };
std::string_view status_name(FindingStatus s);  // ACTIVE, SUPPRESSED, CLOSED
Result<FindingStatus> parse_status(std::string_view text);

struct FindingRow {
  std::string digest;
  std::string repository;
  std::string vulnerability;          // CVE when known, else the record's id
  std::vector<std::string> aliases;
  std::vector<std::string> records;   // OSV records that matched
  std::string package_id, package_name, package_version, package_type, purl;
  std::string ecosystem;
  std::string severity = "Unknown";   // Critical, High, Medium, Low, Negligible, Unknown
  std::string score;                  // CVSS base score, when known
  std::string severity_source;       // the scoring record and how: "GHSA-462w-v97r-4m45 CVSS_V3"
  std::vector<std::string> fixed_versions;
  std::string summary;
  FindingStatus status = FindingStatus::kActive;
  std::string reason;                 // why suppressed or closed
  UnixSeconds first_seen = 0, last_seen = 0;
  std::optional<UnixSeconds> closed_at;
};

struct FindingFilter {
  std::string digest;                 // "" = all images
  std::optional<FindingStatus> status;
  std::string min_severity;           // "" = any
  std::string vulnerability;          // an id or alias; "" = any
};

// A finding that opened or closed: what the outbox carries to the sinks.
struct FindingEvent {
  int64_t id = 0;        // outbox sequence
  std::string kind;      // "opened", "closed"
  FindingRow finding;
  UnixSeconds at = 0;
  int attempts = 0;
  UnixSeconds next_attempt = 0;  // not to be tried before
};

// ECR's lifecycle: a closed finding that matches again within 7 days reopens; closed findings are
// deleted 30 days after closing.
inline constexpr int64_t kReopenWithinSeconds = 7 * 86400;
inline constexpr int kDeleteClosedAfterDays = 30;

// What a reconciliation changed.
struct Reconciled {
  std::vector<FindingRow> opened, reopened, closed;
  size_t still_active = 0;
};

class InventoryStore {
 public:
  virtual ~InventoryStore() = default;

  // Adds the image or refreshes it (tags merged, last seen, active again), replacing its
  // packages with `sbom`'s.
  virtual Status put_image(const Image& image, const sbom::Sbom& sbom) = 0;
  virtual Result<std::optional<Image>> image(std::string_view digest) = 0;
  virtual Result<std::vector<Image>> images(bool include_inactive) = 0;
  // The stored packages of an image as an SBOM (the distro included); only `package_ids` when
  // not empty.
  virtual Result<sbom::Sbom> image_sbom(std::string_view digest, const std::vector<std::string>& package_ids = {}) = 0;
  // Active images holding a matchable package filed under one of `keys` (ecosystem without its
  // release, normalized name), with those packages' ids.
  virtual Result<std::vector<std::pair<std::string, std::vector<std::string>>>> images_holding(
      const std::vector<std::pair<std::string, std::string>>& keys) = 0;
  // Packages of purl type `type` named `name` ("org.apache.logging.log4j/log4j-core"), in
  // active images unless `include_inactive`.
  virtual Result<std::vector<PackageHit>> packages_named(std::string_view type, std::string_view name,
                                                         bool include_inactive) = 0;

  // Makes the findings of `digest` for the packages `package_ids` (all of the image's when
  // empty) those of `current`: new ones open, missing ones close, the rest are seen again. A
  // closed finding that matches again within `reopen_within_seconds` of closing reopens (the same
  // finding, its first seen kept); later, a new finding opens and the closed one is kept beside
  // it until purge_closed deletes it. Every opened, reopened and closed finding is queued in the
  // outbox in the same transaction.
  virtual Result<Reconciled> reconcile(std::string_view digest, const std::vector<std::string>& package_ids,
                                       const std::vector<FindingRow>& current, UnixSeconds now,
                                       int64_t reopen_within_seconds = kReopenWithinSeconds) = 0;
  // Groups the reconciliations that follow into one transaction until commit_batch (or
  // rollback_batch): a rescan writes many images at once without a commit for each.
  virtual Status begin_batch() = 0;
  virtual Status commit_batch() = 0;
  virtual void rollback_batch() = 0;
  // Deletes the findings closed before `cutoff`. Returns how many.
  virtual Result<size_t> purge_closed(UnixSeconds cutoff) = 0;
  virtual Result<std::vector<FindingRow>> findings(const FindingFilter& filter) = 0;
  // Suppresses (or, with `suppress` false, reactivates) the findings of `vulnerability` (an id or
  // alias), on one image or all.
  virtual Result<size_t> suppress(std::string_view vulnerability, std::string_view digest, std::string_view reason,
                                  bool suppress, UnixSeconds now) = 0;
  // Retention: images neither pushed nor seen since `cutoff` go inactive and their open
  // findings close (queued as events). Returns the images made inactive.
  virtual Result<std::vector<std::string>> expire(UnixSeconds cutoff, UnixSeconds now) = 0;

  // The last vulnerability-database update the inventory has been rescanned against.
  virtual Result<int64_t> rescanned_through() = 0;
  virtual Status set_rescanned_through(int64_t seq) = 0;

  // Outbox: the oldest events not yet delivered, in order (whether or not their next attempt
  // is due, so that a sender can keep the order).
  virtual Result<std::vector<FindingEvent>> undelivered_events(size_t limit) = 0;
  virtual Status delivered(int64_t event_id, UnixSeconds now) = 0;
  virtual Status delivery_failed(int64_t event_id, UnixSeconds next_attempt, std::string_view error) = 0;
  virtual Result<int64_t> pending_events() = 0;
};

// The (purl type, indexed name) a purl is found under: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
// -> ("maven", "org.apache.logging.log4j/log4j-core"); PyPI names normalized as PEP 503 says.
Result<std::pair<std::string, std::string>> purl_key(std::string_view purl);

boost::json::object image_json(const Image& image);
boost::json::object finding_json(const FindingRow& finding);
Result<FindingRow> finding_from_json(const boost::json::value& value);

// "postgres://…" or "postgresql://…": PostgreSQL; "sqlite:PATH" or a path: SQLite (created).
Result<std::unique_ptr<InventoryStore>> open_inventory_store(const std::string& url);

// $XDG_DATA_HOME/vouch/inventory.db, else $HOME/.local/share/vouch/inventory.db.
std::string default_inventory_url();

}  // namespace vouch::inventory
