#include "vouch/oci/blob.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace vouch::oci {
namespace {

class MemoryReader final : public BlobReader {
 public:
  explicit MemoryReader(std::string owned) : owned_(std::move(owned)), rest_(owned_) {}
  explicit MemoryReader(std::string_view view) : rest_(view) {}
  Result<size_t> read(std::span<uint8_t> out) override {
    size_t n = std::min(out.size(), rest_.size());
    std::copy_n(rest_.data(), n, out.data());
    rest_.remove_prefix(n);
    return n;
  }

 private:
  std::string owned_;
  std::string_view rest_;
};

class VerifyingReader final : public BlobReader {
 public:
  VerifyingReader(std::unique_ptr<BlobReader> raw, Descriptor d, std::string what)
      : raw_(std::move(raw)), d_(std::move(d)), what_(std::move(what)), digester_(d_.digest.algorithm()) {}

  Result<size_t> read(std::span<uint8_t> out) override {
    if (finished_) return size_t{0};
    auto n = raw_->read(out);
    if (!n.ok()) return std::move(n).error().context(what_);
    if (*n == 0) {
      finished_ = true;
      if (total_ != d_.size)
        return verification_failed(fmt::format("{}: {} bytes received, the descriptor says {}", what_, total_, d_.size));
      Digest got = digester_.finish();
      if (got != d_.digest)
        return verification_failed(fmt::format("{}: content does not match its digest: expected {}, got {}", what_,
                                               d_.digest.str(), got.str()));
      return size_t{0};
    }
    total_ += static_cast<int64_t>(*n);
    if (total_ > d_.size)
      return invalid_input(fmt::format("{}: more than the {} bytes its descriptor says", what_, d_.size));
    digester_.update(ByteView(out.data(), *n));
    return *n;
  }

 private:
  std::unique_ptr<BlobReader> raw_;
  Descriptor d_;
  std::string what_;
  Digester digester_;
  int64_t total_ = 0;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<BlobReader> bytes_reader(std::string bytes) { return std::make_unique<MemoryReader>(std::move(bytes)); }
std::unique_ptr<BlobReader> view_reader(std::string_view bytes) { return std::make_unique<MemoryReader>(bytes); }

std::unique_ptr<BlobReader> verifying_reader(std::unique_ptr<BlobReader> raw, const Descriptor& expected,
                                             std::string what) {
  return std::make_unique<VerifyingReader>(std::move(raw), expected, std::move(what));
}

Result<std::string> read_all(BlobReader& reader, size_t max_bytes, std::string_view what) {
  std::string out;
  std::vector<uint8_t> buf(64 * 1024);
  for (;;) {
    VOUCH_ASSIGN_OR_RETURN(size_t n, reader.read(buf));
    if (n == 0) break;
    if (out.size() + n > max_bytes)
      return invalid_input(fmt::format("{}: larger than the limit of {} bytes", what, max_bytes));
    out.append(reinterpret_cast<const char*>(buf.data()), n);
  }
  return out;
}

}  // namespace vouch::oci
