// `vouch db import`: OSV records from JSON files, directories and archives into a store.
#include <algorithm>
#include <chrono>

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include "vouch/base/file.h"
#include "vouch/vuln/database.h"

namespace vouch::vuln {
namespace {

// libarchive may have no message to give.
std::string archive_message(archive* a) {
  const char* m = archive_error_string(a);
  return m ? m : "unreadable archive";
}

namespace fs = std::filesystem;

constexpr size_t kBatchSize = 2000;
constexpr size_t kMaxWarnings = 1000;

class Importer {
 public:
  Importer(VulnerabilityStore& store, const ImportProgress& progress) : store_(store), progress_(progress) {}

  Status begin() {
    VOUCH_RETURN_IF_ERROR(store_.begin_batch());
    in_batch_ = true;
    return ok_status();
  }

  Status record(std::string_view source, std::string_view text) {
    ++stats_.seen;
    auto rec = parse_osv(text);
    if (!rec.ok()) {
      ++stats_.malformed;
      stats_.problems.push_back(fmt::format("{}: {}", source, rec.error().message));
    } else {
      for (const auto& w : rec->warnings)
        if (stats_.warnings.size() < kMaxWarnings) stats_.warnings.push_back(fmt::format("{}: {}", rec->id, w));
      VOUCH_ASSIGN_OR_RETURN(int outcome, store_.put_if_newer(*rec));
      if (outcome > 0) ++stats_.added;
      else if (outcome == 0) ++stats_.updated;
      else ++stats_.unchanged;
    }
    if (stats_.seen % kBatchSize == 0) {
      VOUCH_RETURN_IF_ERROR(store_.commit_batch());
      VOUCH_RETURN_IF_ERROR(store_.begin_batch());
      if (progress_) progress_(stats_.seen);
    }
    return ok_status();
  }

  Status file(const fs::path& path) {
    std::string name = path.filename().string();
    if (name.ends_with(".zip") || name.ends_with(".tar.gz") || name.ends_with(".tgz") || name.ends_with(".tar"))
      return archive(path);
    auto text = read_file(path, kMaxOsvRecordBytes);
    if (!text.ok()) {
      ++stats_.seen;
      ++stats_.malformed;
      stats_.problems.push_back(fmt::format("{}: {}", path.string(), text.error().message));
      return ok_status();
    }
    return record(path.string(), *text);
  }

  Status directory(const fs::path& dir) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return io_error(fmt::format("{}: {}", dir.string(), ec.message()));
      if (it->is_regular_file() && it->path().extension() == ".json") files.push_back(it->path());
    }
    if (ec) return io_error(fmt::format("{}: {}", dir.string(), ec.message()));
    std::sort(files.begin(), files.end());
    for (const auto& f : files) VOUCH_RETURN_IF_ERROR(file(f));
    return ok_status();
  }

  Status archive(const fs::path& path) {
    struct archive* a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_zip(a);
    archive_read_support_format_tar(a);
    auto close = [&]() { archive_read_free(a); };
    if (archive_read_open_filename(a, path.c_str(), 1 << 16) != ARCHIVE_OK) {
      Error e = io_error(fmt::format("{}: {}", path.string(), archive_message(a)));
      close();
      return e;
    }
    struct archive_entry* entry;
    std::string buffer;
    int rc;
    while ((rc = archive_read_next_header(a, &entry)) == ARCHIVE_OK) {
      const char* entry_name = archive_entry_pathname(entry);
      std::string name = entry_name ? entry_name : "";
      if (archive_entry_filetype(entry) != AE_IFREG || !name.ends_with(".json")) continue;
      std::string source = fmt::format("{}!{}", path.string(), name);
      int64_t size = archive_entry_size(entry);
      if (archive_entry_size_is_set(entry) && size > static_cast<int64_t>(kMaxOsvRecordBytes)) {
        ++stats_.seen;
        ++stats_.malformed;
        stats_.problems.push_back(fmt::format("{}: larger than {} bytes", source, kMaxOsvRecordBytes));
        continue;
      }
      buffer.clear();
      char chunk[65536];
      la_ssize_t n;
      bool too_big = false;
      while ((n = archive_read_data(a, chunk, sizeof chunk)) > 0) {
        if (buffer.size() + static_cast<size_t>(n) > kMaxOsvRecordBytes) {
          too_big = true;
          break;
        }
        buffer.append(chunk, static_cast<size_t>(n));
      }
      if (n < 0) {
        Error e = io_error(fmt::format("{}: {}", source, archive_message(a)));
        close();
        return e;
      }
      if (too_big) {
        ++stats_.seen;
        ++stats_.malformed;
        stats_.problems.push_back(fmt::format("{}: larger than {} bytes", source, kMaxOsvRecordBytes));
        continue;
      }
      Status s = record(source, buffer);
      if (!s.ok()) {
        close();
        return s;
      }
    }
    if (rc != ARCHIVE_EOF) {
      Error e = io_error(fmt::format("{}: {}", path.string(), archive_message(a)));
      close();
      return e;
    }
    close();
    return ok_status();
  }

  Status finish() {
    VOUCH_RETURN_IF_ERROR(store_.set_last_import(now_unix()));
    VOUCH_RETURN_IF_ERROR(store_.commit_batch());
    in_batch_ = false;
    if (progress_) progress_(stats_.seen);
    return ok_status();
  }

  // An error leaves the records of completed batches in place; the open batch is kept too
  // (each record is whole), so a rerun continues where this one stopped.
  void abandon() {
    if (in_batch_) (void)store_.commit_batch();
  }

  ImportStats& stats() { return stats_; }

 private:
  VulnerabilityStore& store_;
  const ImportProgress& progress_;
  ImportStats stats_;
  bool in_batch_ = false;
};

}  // namespace

Result<ImportStats> import_osv(VulnerabilityStore& store, const std::vector<fs::path>& inputs,
                               const ImportProgress& progress) {
  auto start = std::chrono::steady_clock::now();
  for (const auto& input : inputs) {
    std::error_code ec;
    if (!fs::exists(input, ec)) return not_found(fmt::format("{}: no such file or directory", input.string()));
  }
  Importer importer(store, progress);
  VOUCH_RETURN_IF_ERROR(importer.begin());
  for (const auto& input : inputs) {
    std::error_code ec;
    Status s = fs::is_directory(input, ec) ? importer.directory(input) : importer.file(input);
    if (!s.ok()) {
      importer.abandon();
      return std::move(s).error();
    }
  }
  VOUCH_RETURN_IF_ERROR(importer.finish());
  ImportStats stats = std::move(importer.stats());
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace vouch::vuln
