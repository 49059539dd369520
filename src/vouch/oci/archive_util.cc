#include "archive_util.h"

#include <isa-l/igzip_lib.h>

#include <cstring>

namespace vouch::oci::detail {
namespace {

struct ReaderState {
  BlobReader* source;
  std::vector<uint8_t> buf = std::vector<uint8_t>(256 * 1024);
  std::string error;
};

la_ssize_t read_cb(archive* a, void* data, const void** out) {
  auto* s = static_cast<ReaderState*>(data);
  auto n = s->source->read(s->buf);
  if (!n.ok()) {
    s->error = n.error().message;
    archive_set_error(a, EIO, "%s", s->error.c_str());
    return -1;
  }
  *out = s->buf.data();
  return static_cast<la_ssize_t>(*n);
}

int close_cb(archive*, void* data) {
  delete static_cast<ReaderState*>(data);
  return ARCHIVE_OK;
}

// A layer stream for libarchive's tar reader: gzip is inflated here with isa-l's igzip (about
// twice zlib's speed, which libarchive would use), member after member as gzip(1) reads them;
// anything else (zstd, plain tar) is handed on as read, for libarchive's own filters.
class LayerStream {
 public:
  explicit LayerStream(BlobReader& source) : source_(source), in_(kInputBytes) {}

  la_ssize_t read(archive* a, const void** out) {
    auto n = next(out);
    if (!n.ok()) {
      error_ = std::move(n).error().message;
      archive_set_error(a, EIO, "%s", error_.c_str());
      return -1;
    }
    return static_cast<la_ssize_t>(*n);
  }

 private:
  static constexpr size_t kInputBytes = 256 * 1024;
  static constexpr size_t kOutputBytes = 1024 * 1024;

  // Moves what is left of the input to the front and reads more after it.
  Status refill() {
    if (done_) return ok_status();
    if (avail_ > 0 && pos_ > 0) std::memmove(in_.data(), in_.data() + pos_, avail_);
    pos_ = 0;
    VOUCH_ASSIGN_OR_RETURN(size_t n, source_.read(std::span<uint8_t>(in_).subspan(avail_)));
    if (n == 0) done_ = true;
    avail_ += n;
    return ok_status();
  }

  bool at_gzip_magic() const { return avail_ >= 2 && in_[pos_] == 0x1f && in_[pos_ + 1] == 0x8b; }

  void start_member() {
    isal_inflate_reset(inflater_.get());
    inflater_->crc_flag = ISAL_GZIP;
  }

  Result<size_t> next(const void** out) {
    if (!sniffed_) {
      while (avail_ < 2 && !done_) VOUCH_RETURN_IF_ERROR(refill());
      sniffed_ = true;
      if (at_gzip_magic()) {
        inflater_ = std::make_unique<inflate_state>();
        isal_inflate_init(inflater_.get());
        inflater_->crc_flag = ISAL_GZIP;
        out_.resize(kOutputBytes);
      }
    }
    if (!inflater_) {
      // Not gzip: the bytes as they are.
      if (avail_ == 0) VOUCH_RETURN_IF_ERROR(refill());
      *out = in_.data() + pos_;
      size_t n = avail_;
      pos_ += n;
      avail_ = 0;
      return n;
    }
    for (;;) {
      if (inflater_->block_state == ISAL_BLOCK_FINISH) {
        // One member done: another may follow; anything else ends the stream (what is left
        // is still read by the caller, so that the digest covers it).
        while (avail_ < 2 && !done_) VOUCH_RETURN_IF_ERROR(refill());
        if (!at_gzip_magic()) return size_t{0};
        start_member();
      }
      if (avail_ == 0) VOUCH_RETURN_IF_ERROR(refill());
      inflater_->next_in = in_.data() + pos_;
      inflater_->avail_in = static_cast<uint32_t>(avail_);
      inflater_->next_out = out_.data();
      inflater_->avail_out = static_cast<uint32_t>(out_.size());
      int r = isal_inflate(inflater_.get());
      size_t used = avail_ - inflater_->avail_in;
      pos_ += used;
      avail_ -= used;
      if (r < 0) return invalid_input(fmt::format("gzip: {}", inflate_error(r)));
      size_t produced = out_.size() - inflater_->avail_out;
      if (produced > 0) {
        *out = out_.data();
        return produced;
      }
      if (avail_ == 0 && done_ && inflater_->block_state != ISAL_BLOCK_FINISH)
        return invalid_input("gzip: the stream ends inside a member");
    }
  }

  static std::string_view inflate_error(int r) {
    switch (r) {
      case ISAL_INVALID_BLOCK: return "invalid deflate block";
      case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
      case ISAL_INVALID_LOOKBACK: return "invalid back-reference distance";
      case ISAL_INVALID_WRAPPER: return "invalid gzip header";
      case ISAL_UNSUPPORTED_METHOD: return "compression method is not deflate";
      case ISAL_INCORRECT_CHECKSUM: return "CRC or length of a member does not match its content";
      default: return "corrupt data";
    }
  }

  BlobReader& source_;
  std::vector<uint8_t> in_;
  std::vector<uint8_t> out_;
  size_t pos_ = 0, avail_ = 0;
  bool done_ = false, sniffed_ = false;
  std::unique_ptr<inflate_state> inflater_;
  std::string error_;
};

la_ssize_t layer_read_cb(archive* a, void* data, const void** out) { return static_cast<LayerStream*>(data)->read(a, out); }

int layer_close_cb(archive*, void* data) {
  delete static_cast<LayerStream*>(data);
  return ARCHIVE_OK;
}

}  // namespace

std::string archive_error(archive* a) {
  const char* e = archive_error_string(a);
  return e ? e : "unknown archive error";
}

Result<ArchivePtr> open_archive_reader(BlobReader& source, bool tar) {
  ArchivePtr a(archive_read_new());
  if (!a) return internal_error("libarchive: cannot allocate a reader");
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_filter_none(a.get());
  if (tar) {
    archive_read_support_format_tar(a.get());
  } else {
    archive_read_support_format_raw(a.get());
  }
  auto* state = new ReaderState{&source, std::vector<uint8_t>(256 * 1024), {}};
  if (archive_read_open(a.get(), state, nullptr, read_cb, close_cb) != ARCHIVE_OK)
    return invalid_input(fmt::format("archive: {}", archive_error(a.get())));
  return a;
}

Result<ArchivePtr> open_archive_file(const std::string& path) {
  ArchivePtr a(archive_read_new());
  if (!a) return internal_error("libarchive: cannot allocate a reader");
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_filter_none(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 256 * 1024) != ARCHIVE_OK)
    return invalid_input(fmt::format("{}: {}", path, archive_error(a.get())));
  return a;
}

Result<ArchivePtr> open_layer_reader(BlobReader& source) {
  ArchivePtr a(archive_read_new());
  if (!a) return internal_error("libarchive: cannot allocate a reader");
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_filter_none(a.get());
  archive_read_support_format_tar(a.get());
  auto* stream = new LayerStream(source);
  if (archive_read_open(a.get(), stream, nullptr, layer_read_cb, layer_close_cb) != ARCHIVE_OK)
    return invalid_input(fmt::format("archive: {}", archive_error(a.get())));
  return a;
}

Result<std::vector<std::string>> safe_entry_path(std::string_view name) {
  if (name.empty()) return invalid_input("tar entry with an empty name");
  if (name.size() > 4096) return invalid_input("tar entry name longer than 4096 bytes");
  if (name.front() == '/') return invalid_input(fmt::format("tar entry '{}': absolute path refused", name.substr(0, 300)));
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    std::string_view part = name.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part == "..") return invalid_input(fmt::format("tar entry '{}': '..' in path refused", name.substr(0, 300)));
    if (part.find('\0') != std::string_view::npos) return invalid_input("tar entry name with a NUL byte");
    if (!part.empty() && part != ".") parts.emplace_back(part);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

}  // namespace vouch::oci::detail
