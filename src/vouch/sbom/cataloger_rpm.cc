// RPM packages: the SQLite rpm database (rpm 4.16 and later: rpmdb.sqlite, table Packages with
// one header blob per package). The Berkeley DB (Packages) and NDB (Packages.db) formats are
// recognized and reported as not read.
//
// A header blob: int32 index count, int32 data length (big endian), that many 16-byte index
// entries (tag, type, offset, count) and the data store they point into.
#include <sqlite3.h>

#include <fmt/format.h>

#include "cataloger_common.h"
#include "vouch/sbom/catalog.h"
#include "vouch/sbom/parsers.h"
#include "vouch/sbom/purl.h"

namespace vouch::sbom {
namespace {

constexpr uint32_t kMaxIndexEntries = 0xffff;
constexpr uint32_t kMaxDataBytes = 256u << 20;
constexpr size_t kMaxHeaders = 200000;

enum : uint32_t {
  kTagName = 1000, kTagVersion = 1001, kTagRelease = 1002, kTagEpoch = 1003, kTagVendor = 1011,
  kTagLicense = 1014, kTagArch = 1022, kTagOldFilenames = 1027, kTagSourceRpm = 1044,
  kTagDirIndexes = 1116, kTagBasenames = 1117, kTagDirnames = 1118,
};
enum : uint32_t { kTypeInt32 = 4, kTypeString = 6, kTypeStringArray = 8, kTypeI18nString = 9 };

uint32_t be32(std::string_view b, size_t off) {
  return (uint32_t(static_cast<unsigned char>(b[off])) << 24) | (uint32_t(static_cast<unsigned char>(b[off + 1])) << 16) |
         (uint32_t(static_cast<unsigned char>(b[off + 2])) << 8) | uint32_t(static_cast<unsigned char>(b[off + 3]));
}

struct Entry {
  uint32_t tag, type, offset, count;
};

Result<std::vector<std::string>> strings_of(const Entry& e, std::string_view data) {
  if (e.type != kTypeString && e.type != kTypeStringArray && e.type != kTypeI18nString)
    return invalid_input(fmt::format("rpm header: tag {} has type {}, expected a string", e.tag, e.type));
  if (e.offset > data.size()) return invalid_input(fmt::format("rpm header: tag {} offset outside the data", e.tag));
  if (e.count > data.size()) return invalid_input(fmt::format("rpm header: tag {} count {} too large", e.tag, e.count));
  uint32_t n = e.type == kTypeString ? 1 : e.count;
  std::vector<std::string> out;
  size_t pos = e.offset;
  for (uint32_t i = 0; i < n; ++i) {
    size_t end = data.find('\0', pos);
    if (end == std::string_view::npos)
      return invalid_input(fmt::format("rpm header: tag {} string {} runs past the data", e.tag, i));
    out.emplace_back(data.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

Result<std::vector<int64_t>> int32s_of(const Entry& e, std::string_view data) {
  if (e.type != kTypeInt32)
    return invalid_input(fmt::format("rpm header: tag {} has type {}, expected int32", e.tag, e.type));
  if (e.offset > data.size() || e.count > (data.size() - e.offset) / 4)
    return invalid_input(fmt::format("rpm header: tag {} runs past the data", e.tag));
  std::vector<int64_t> out;
  out.reserve(e.count);
  for (uint32_t i = 0; i < e.count; ++i) out.push_back(static_cast<int32_t>(be32(data, e.offset + 4 * i)));
  return out;
}

std::string rpm_purl(const Package& p, const RpmHeader& h, const std::optional<Distro>& distro) {
  Purl base;
  base.type = "rpm";
  std::string ns = distro ? distro->id : std::string();
  if (ns == "rhel") ns = "redhat";
  if (ns.starts_with("opensuse")) ns = "opensuse";
  base.namespace_ = ns;
  base.name = p.name;
  base.version = h.version + "-" + h.release;  // the epoch is a qualifier in rpm purls
  std::string distro_q;
  if (distro && !distro->id.empty())
    distro_q = distro->version_id.empty() ? distro->id : distro->id + "-" + distro->version_id;
  return format_purl(base, {{"arch", h.arch},
                            {"epoch", h.epoch ? std::to_string(*h.epoch) : std::string()},
                            {"upstream", h.source_rpm},
                            {"distro", distro_q}});
}

// Reads every header blob of an rpmdb.sqlite held in memory.
Result<std::vector<std::string>> sqlite_blobs(std::string content) {
  if (!content.starts_with(std::string_view("SQLite format 3\0", 16))) return invalid_input("not an SQLite database");
  // The in-memory VFS cannot open a write-ahead log: read the file as a rollback-journal one.
  if (content.size() > 19 && content[18] == 2 && content[19] == 2) content[18] = content[19] = 1;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return internal_error("sqlite: cannot open an in-memory database");
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> guard(db, sqlite3_close);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  auto size = static_cast<sqlite3_int64>(content.size());
  int rc = sqlite3_deserialize(db, "main", reinterpret_cast<unsigned char*>(content.data()), size, size,
                               SQLITE_DESERIALIZE_READONLY);
  if (rc != SQLITE_OK) return invalid_input(fmt::format("sqlite: {}", sqlite3_errmsg(db)));
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT blob FROM Packages ORDER BY hnum", -1, &st, nullptr) != SQLITE_OK)
    return invalid_input(fmt::format("not an rpm database: {}", sqlite3_errmsg(db)));
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> sguard(st, sqlite3_finalize);
  std::vector<std::string> out;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (out.size() >= kMaxHeaders) return invalid_input("more than 200000 packages");
    const void* b = sqlite3_column_blob(st, 0);
    int n = sqlite3_column_bytes(st, 0);
    out.emplace_back(b ? static_cast<const char*>(b) : "", b ? static_cast<size_t>(n) : 0);
  }
  if (rc != SQLITE_DONE) return invalid_input(fmt::format("sqlite: {}", sqlite3_errmsg(db)));
  return out;
}

class RpmCataloger : public Cataloger {
 public:
  std::string name() const override { return "rpm"; }
  std::vector<std::string> globs() const override {
    std::vector<std::string> out;
    for (const char* dir : {"/var/lib/rpm/", "/usr/lib/sysimage/rpm/", "/usr/share/rpm/"})
      for (const char* name : {"rpmdb.sqlite", "Packages", "Packages.db"}) out.push_back(std::string(dir) + name);
    return out;
  }
  size_t max_file_bytes() const override { return size_t{1} << 30; }
  Result<std::optional<std::string>> extract(const SourceFile& f, std::string_view content) const override {
    if (f.path.ends_with("/rpmdb.sqlite")) return std::optional<std::string>(content);
    return std::optional<std::string>(std::string());  // formats not read: only the path matters
  }

  Status parse(const std::vector<FoundFile>& files, CatalogContext& ctx) const override {
    for (const auto& f : files) {
      if (!f.file.path.ends_with("/rpmdb.sqlite")) {
        std::string_view format = f.file.path.ends_with(".db") ? "NDB" : "Berkeley DB";
        ctx.warnings.push_back(fmt::format("{}: rpm database in {} format is not read; its packages are missing",
                                           f.file.path, format));
        continue;
      }
      auto blobs = sqlite_blobs(f.content);
      if (!blobs.ok()) return std::move(blobs).error().context(f.file.path);
      size_t n = 0;
      for (const auto& blob : *blobs) {
        ++n;
        auto h = parse_rpm_header(blob);
        if (!h.ok()) return std::move(h).error().context(fmt::format("{}: package {}", f.file.path, n));
        Package p;
        p.type = type::kRpm;
        p.name = h->name;
        p.version = (h->epoch ? fmt::format("{}:", *h->epoch) : std::string()) + h->version + "-" + h->release;
        p.architecture = h->arch;
        if (!h->license.empty()) p.licenses.push_back(h->license);
        p.source_name = h->source_rpm;
        p.locations.push_back(Location{f.file.path, f.file.layer_digest});
        p.files = h->files;
        p.purl = rpm_purl(p, *h, ctx.distro);
        ctx.packages.push_back(std::move(p));
      }
    }
    return ok_status();
  }
};

}  // namespace

Result<RpmHeader> parse_rpm_header(std::string_view blob) {
  if (blob.size() < 8) return invalid_input("rpm header: shorter than 8 bytes");
  uint32_t il = be32(blob, 0), dl = be32(blob, 4);
  if (il == 0 || il > kMaxIndexEntries) return invalid_input(fmt::format("rpm header: {} index entries", il));
  if (dl > kMaxDataBytes) return invalid_input(fmt::format("rpm header: {} data bytes", dl));
  uint64_t need = 8 + uint64_t{il} * 16 + dl;
  if (blob.size() < need) return invalid_input(fmt::format("rpm header: truncated ({} of {} bytes)", blob.size(), need));
  std::string_view data = blob.substr(8 + size_t{il} * 16, dl);
  RpmHeader h;
  std::vector<std::string> basenames, dirnames, oldnames;
  std::vector<int64_t> dirindexes;
  for (uint32_t i = 0; i < il; ++i) {
    size_t off = 8 + size_t{i} * 16;
    Entry e{be32(blob, off), be32(blob, off + 4), be32(blob, off + 8), be32(blob, off + 12)};
    auto one = [&](std::string& out) -> Status {
      VOUCH_ASSIGN_OR_RETURN(std::vector<std::string> v, strings_of(e, data));
      if (!v.empty()) out = std::move(v[0]);
      return ok_status();
    };
    switch (e.tag) {
      case kTagName: VOUCH_RETURN_IF_ERROR(one(h.name)); break;
      case kTagVersion: VOUCH_RETURN_IF_ERROR(one(h.version)); break;
      case kTagRelease: VOUCH_RETURN_IF_ERROR(one(h.release)); break;
      case kTagArch: VOUCH_RETURN_IF_ERROR(one(h.arch)); break;
      case kTagLicense: VOUCH_RETURN_IF_ERROR(one(h.license)); break;
      case kTagVendor: VOUCH_RETURN_IF_ERROR(one(h.vendor)); break;
      case kTagSourceRpm: VOUCH_RETURN_IF_ERROR(one(h.source_rpm)); break;
      case kTagEpoch: {
        VOUCH_ASSIGN_OR_RETURN(std::vector<int64_t> v, int32s_of(e, data));
        if (!v.empty()) h.epoch = v[0];
        break;
      }
      case kTagDirIndexes: {
        VOUCH_ASSIGN_OR_RETURN(dirindexes, int32s_of(e, data));
        break;
      }
      case kTagBasenames: {
        VOUCH_ASSIGN_OR_RETURN(basenames, strings_of(e, data));
        break;
      }
      case kTagDirnames: {
        VOUCH_ASSIGN_OR_RETURN(dirnames, strings_of(e, data));
        break;
      }
      case kTagOldFilenames: {
        VOUCH_ASSIGN_OR_RETURN(oldnames, strings_of(e, data));
        break;
      }
      default: break;
    }
  }
  if (h.name.empty()) return invalid_input("rpm header: no name");
  if (h.version.empty()) return invalid_input(fmt::format("rpm header of {}: no version", h.name));
  if (basenames.size() != dirindexes.size())
    return invalid_input(fmt::format("rpm header of {}: {} basenames but {} dir indexes", h.name, basenames.size(),
                                     dirindexes.size()));
  for (size_t i = 0; i < basenames.size(); ++i) {
    if (dirindexes[i] < 0 || static_cast<size_t>(dirindexes[i]) >= dirnames.size())
      return invalid_input(fmt::format("rpm header of {}: dir index {} out of range", h.name, dirindexes[i]));
    h.files.push_back(dirnames[dirindexes[i]] + basenames[i]);
  }
  for (auto& n : oldnames) h.files.push_back(std::move(n));
  return h;
}

std::unique_ptr<Cataloger> rpm_cataloger() { return std::make_unique<RpmCataloger>(); }

}  // namespace vouch::sbom
