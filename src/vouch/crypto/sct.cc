#include "vouch/crypto/sct.h"

#include <openssl/ct.h>
#include <openssl/x509v3.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include "crypto/openssl_util.h"

namespace vouch::crypto {
namespace {

struct CtDeleter {
  void operator()(STACK_OF(SCT)* p) const { SCT_LIST_free(p); }
  void operator()(CTLOG_STORE* p) const { CTLOG_STORE_free(p); }
  void operator()(CT_POLICY_EVAL_CTX* p) const { CT_POLICY_EVAL_CTX_free(p); }
};
using SctListPtr = std::unique_ptr<STACK_OF(SCT), CtDeleter>;
using CtLogStorePtr = std::unique_ptr<CTLOG_STORE, CtDeleter>;
using CtPolicyCtxPtr = std::unique_ptr<CT_POLICY_EVAL_CTX, CtDeleter>;

constexpr size_t kMaxScts = 64;

Result<SctListPtr> read_sct_list(const Certificate& cert) {
  int crit = -1;
  auto* list = static_cast<STACK_OF(SCT)*>(X509_get_ext_d2i(cert.get(), NID_ct_precert_scts, &crit, nullptr));
  ERR_clear_error();
  SctListPtr owned(list);
  if (!list) {
    if (crit == -1) return verification_failed("certificate has no embedded SCT");
    if (crit == -2) return invalid_input("certificate has more than one embedded SCT list extension");
    return invalid_input("certificate's embedded SCT list is malformed");
  }
  if (sk_SCT_num(list) <= 0) return verification_failed("certificate has no embedded SCT");
  if (static_cast<size_t>(sk_SCT_num(list)) > kMaxScts)
    return invalid_input(fmt::format("certificate embeds more than {} SCTs", kMaxScts));
  return owned;
}

Bytes sct_log_id(const SCT* sct) {
  unsigned char* id = nullptr;
  size_t len = SCT_get0_log_id(sct, &id);
  return id ? Bytes(id, id + len) : Bytes{};
}

// OpenSSL 3 can fill a CTLOG_STORE only from a CT log list file (CTLOG_STORE_load_file; there
// is no call that adds a CTLOG). So the trusted logs are written to a private temporary file
// in that format, loaded, and the file removed.
class TempFile {
 public:
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  Status create(const std::string& contents) {
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
    if (ec) dir = "/tmp";
    std::string templ = (dir / "vouch-ctlogs-XXXXXX").string();
    int fd = ::mkstemp(templ.data());
    if (fd < 0) return io_error(fmt::format("cannot create a temporary file in {}", dir.string()));
    path_ = templ;
    size_t done = 0;
    while (done < contents.size()) {
      ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
      if (n <= 0) {
        ::close(fd);
        return io_error(fmt::format("cannot write {}", path_));
      }
      done += static_cast<size_t>(n);
    }
    if (::close(fd) != 0) return io_error(fmt::format("cannot write {}", path_));
    return ok_status();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Result<CtLogStorePtr> make_store(const std::vector<const CtLog*>& logs) {
  CtLogStorePtr store(CTLOG_STORE_new());
  if (!store) return internal_error(fmt::format("SCT: cannot create a CT log store: {}", openssl_error()));
  if (logs.empty()) return store;
  std::string names;
  std::string sections;
  for (size_t i = 0; i < logs.size(); ++i) {
    std::string name = fmt::format("log{}", i);
    names += (i ? "," : "") + name;
    sections += fmt::format("[{}]\ndescription = {}\nkey = {}\n", name, name, base64_encode(logs[i]->key.der()));
  }
  TempFile file;
  VOUCH_RETURN_IF_ERROR(file.create(fmt::format("enabled_logs = {}\n{}", names, sections)));
  if (CTLOG_STORE_load_file(store.get(), file.path().c_str()) != 1)
    return internal_error(fmt::format("SCT: OpenSSL cannot load the CT log keys: {}", openssl_error()));
  return store;
}

std::string window_text(const CtLog& log) {
  return fmt::format("{} to {}", format_rfc3339(log.valid_start),
                     log.valid_end ? format_rfc3339(*log.valid_end) : std::string("open end"));
}

}  // namespace

Result<std::vector<EmbeddedSct>> embedded_scts(const Certificate& cert) {
  VOUCH_ASSIGN_OR_RETURN(SctListPtr list, read_sct_list(cert));
  std::vector<EmbeddedSct> out;
  for (int i = 0; i < sk_SCT_num(list.get()); ++i) {
    const SCT* sct = sk_SCT_value(list.get(), i);
    out.push_back({sct_log_id(sct), static_cast<int64_t>(SCT_get_timestamp(sct))});
  }
  return out;
}

Status verify_embedded_scts(const Certificate& leaf, const Certificate& issuer, const std::vector<CtLog>& logs,
                            size_t threshold) {
  if (threshold == 0) return ok_status();
  VOUCH_ASSIGN_OR_RETURN(SctListPtr list, read_sct_list(leaf));
  if (X509_check_issued(issuer.get(), leaf.get()) != X509_V_OK)
    return verification_failed(fmt::format("SCT: {} is not the issuer of the certificate (issued by {})",
                                           issuer.subject(), leaf.issuer()));

  // The logs OpenSSL needs: those an SCT names, whose id is the SHA-256 of their key (OpenSSL
  // finds a log by that hash).
  std::set<Bytes> named;
  for (int i = 0; i < sk_SCT_num(list.get()); ++i) named.insert(sct_log_id(sk_SCT_value(list.get(), i)));
  std::vector<const CtLog*> usable;
  for (const auto& log : logs)
    if (named.count(log.log_id) && bytes_equal(log.log_id, sha256(log.key.der()))) usable.push_back(&log);
  VOUCH_ASSIGN_OR_RETURN(CtLogStorePtr store, make_store(usable));

  CtPolicyCtxPtr ctx(CT_POLICY_EVAL_CTX_new());
  if (!ctx || CT_POLICY_EVAL_CTX_set1_cert(ctx.get(), leaf.get()) != 1 ||
      CT_POLICY_EVAL_CTX_set1_issuer(ctx.get(), issuer.get()) != 1)
    return internal_error(fmt::format("SCT: cannot set up verification: {}", openssl_error()));
  CT_POLICY_EVAL_CTX_set_shared_CTLOG_STORE(ctx.get(), store.get());
  const uint64_t now_ms = static_cast<uint64_t>(now_unix()) * 1000;
  CT_POLICY_EVAL_CTX_set_time(ctx.get(), now_ms);

  std::set<Bytes> verified_logs;
  std::vector<std::string> reasons;
  const int count = sk_SCT_num(list.get());
  for (int i = 0; i < count; ++i) {
    SCT* sct = sk_SCT_value(list.get(), i);
    const Bytes id = sct_log_id(sct);
    const std::string id_text = base64_encode(id);
    auto reason = [&](std::string why) {
      reasons.push_back(count > 1 ? fmt::format("SCT {}: {}", i, why) : std::move(why));
    };
    if (SCT_get_version(sct) != SCT_VERSION_V1) {
      reason("unsupported SCT version");
      continue;
    }
    if (verified_logs.count(id)) continue;
    const uint64_t ts_ms = SCT_get_timestamp(sct);
    const auto ts = static_cast<UnixSeconds>(ts_ms / 1000);
    const CtLog* known = nullptr;
    const CtLog* in_window = nullptr;
    for (const auto& log : logs) {
      if (!bytes_equal(log.log_id, id)) continue;
      known = &log;
      if (ts >= log.valid_start && (!log.valid_end || ts <= *log.valid_end)) {
        in_window = &log;
        break;
      }
    }
    if (!known) {
      reason(fmt::format("log id {} unknown", id_text));
      continue;
    }
    if (!in_window) {
      reason(fmt::format("SCT time {} outside the validity of CT log {} ({})", format_rfc3339(ts), id_text,
                         window_text(*known)));
      continue;
    }
    if (!bytes_equal(in_window->log_id, sha256(in_window->key.der()))) {
      reason(fmt::format("CT log id {} is not the SHA-256 of the log's public key", id_text));
      continue;
    }
    if (ts_ms > now_ms) {
      reason(fmt::format("SCT from log {} has a time in the future ({})", id_text, format_rfc3339(ts)));
      continue;
    }
    ERR_clear_error();
    int rc = SCT_validate(sct, ctx.get());
    if (rc == 1 && SCT_get_validation_status(sct) == SCT_VALIDATION_STATUS_VALID) {
      verified_logs.insert(id);
      continue;
    }
    switch (SCT_get_validation_status(sct)) {
      case SCT_VALIDATION_STATUS_INVALID:
        reason(fmt::format("signature of the SCT from log {} does not verify", id_text));
        break;
      case SCT_VALIDATION_STATUS_UNKNOWN_LOG: reason(fmt::format("log id {} unknown", id_text)); break;
      case SCT_VALIDATION_STATUS_UNKNOWN_VERSION: reason("unsupported SCT version"); break;
      default:
        reason(fmt::format("the SCT from log {} cannot be verified: {}", id_text, openssl_error()));
        break;
    }
  }
  ERR_clear_error();

  if (verified_logs.size() >= threshold) return ok_status();
  std::string why;
  for (const auto& r : reasons) why += (why.empty() ? " (" : "; ") + r;
  if (!why.empty()) why += ")";
  if (verified_logs.empty()) return verification_failed(fmt::format("no SCT verifies against a trusted CT log{}", why));
  return verification_failed(fmt::format("SCTs from {} distinct trusted CT logs verify, {} required{}",
                                         verified_logs.size(), threshold, why));
}

}  // namespace vouch::crypto
