// Policies from a directory, reloaded atomically.
#include "vouch/admission/policy_set.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>

#include <fmt/format.h>

#include "vouch/base/file.h"

namespace vouch::admission {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxPolicyFileBytes = 4 << 20;
constexpr size_t kMaxPolicyFiles = 2000;

bool policy_file_name(const fs::path& p) {
  auto e = p.extension().string();
  return e == ".yaml" || e == ".yml" || e == ".json";
}

// The policy files under `dir`, sorted; names starting with '.' (Kubernetes' ..data and
// timestamped directories of a mounted ConfigMap) are skipped, symlinks followed.
Result<std::vector<fs::path>> policy_files(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return not_found(fmt::format("{}: not a directory", dir.string()));
  std::vector<fs::path> out;
  fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec), end;
  if (ec) return io_error(fmt::format("{}: {}", dir.string(), ec.message()));
  for (; it != end; it.increment(ec)) {
    if (ec) return io_error(fmt::format("{}: {}", dir.string(), ec.message()));
    if (it.depth() > 8) return invalid_input(fmt::format("{}: directories nest too deep", dir.string()));
    std::string name = it->path().filename().string();
    if (name.starts_with(".")) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && policy_file_name(it->path())) out.push_back(it->path());
    if (out.size() > kMaxPolicyFiles)
      return invalid_input(fmt::format("{}: more than {} policy files", dir.string(), kMaxPolicyFiles));
  }
  std::sort(out.begin(), out.end());
  return out;
}

policy::Policy view_of(const policy::Policy& p, bool include_validate) {
  policy::Policy v = p;
  v.rules.clear();
  for (const auto& r : p.rules) {
    // Mutate rules run in the mutating webhook; mutateExisting (mutate.targets) is left to
    // Kyverno's background controller, as Kyverno does at admission.
    bool mutates = r.mutate && !r.mutate->targets && !include_validate;
    if (!r.verify_images.empty() || (include_validate && r.validate) || mutates) v.rules.push_back(r);
  }
  return v;
}

Result<std::shared_ptr<const PolicySnapshot>> parse_snapshot(const std::vector<std::pair<fs::path, std::string>>& files) {
  auto snap = std::make_shared<PolicySnapshot>();
  auto exceptions = std::make_shared<std::vector<policy::PolicyException>>();
  std::set<std::string> names;
  for (const auto& [path, text] : files) {
    VOUCH_ASSIGN_OR_RETURN(auto parsed, policy::parse_policies(text, path.string()));
    VOUCH_ASSIGN_OR_RETURN(auto found, policy::parse_policy_exceptions(text, path.string()));
    for (auto& e : found) exceptions->push_back(std::move(e));
    for (auto& p : parsed) {
      std::string id = p.kind == "Policy" ? fmt::format("Policy {}/{}", p.ns, p.name) : p.kind + " " + p.name;
      if (!names.insert(id).second)
        return invalid_input(fmt::format("{}: {} is defined twice", path.string(), id));
      LoadedPolicy lp;
      lp.mutate_view = view_of(p, false);
      lp.validate_view = view_of(p, true);
      lp.full = std::move(p);
      snap->policies.push_back(std::move(lp));
    }
    snap->files.push_back(path.string());
  }
  snap->exceptions = std::move(exceptions);
  snap->loaded_at = now_unix();
  return std::shared_ptr<const PolicySnapshot>(std::move(snap));
}

Result<std::pair<std::vector<std::pair<fs::path, std::string>>, std::string>> read_all(const std::string& dir) {
  VOUCH_ASSIGN_OR_RETURN(auto paths, policy_files(dir));
  std::vector<std::pair<fs::path, std::string>> files;
  std::string contents;
  for (const auto& p : paths) {
    VOUCH_ASSIGN_OR_RETURN(std::string text, read_file(p, kMaxPolicyFileBytes));
    contents += p.string();
    contents.push_back('\0');
    contents += text;
    contents.push_back('\0');
    files.emplace_back(p, std::move(text));
  }
  return std::make_pair(std::move(files), std::move(contents));
}

std::string version_of(const std::string& contents) {
  return fmt::format("{:016x}", std::hash<std::string>{}(contents));
}

}  // namespace

Result<std::shared_ptr<const PolicySnapshot>> load_policy_directory(const std::string& dir) {
  VOUCH_ASSIGN_OR_RETURN(auto read, read_all(dir));
  VOUCH_ASSIGN_OR_RETURN(auto snap, parse_snapshot(read.first));
  std::const_pointer_cast<PolicySnapshot>(snap)->version = version_of(read.second);
  return snap;
}

Result<std::unique_ptr<PolicyDirectory>> PolicyDirectory::open(std::string dir) {
  std::unique_ptr<PolicyDirectory> d(new PolicyDirectory(std::move(dir)));
  VOUCH_ASSIGN_OR_RETURN(auto read, read_all(d->dir_));
  VOUCH_ASSIGN_OR_RETURN(auto snap, parse_snapshot(read.first));
  std::const_pointer_cast<PolicySnapshot>(snap)->version = version_of(read.second);
  d->current_ = std::move(snap);
  d->contents_ = std::move(read.second);
  return d;
}

PolicyDirectory::~PolicyDirectory() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

std::shared_ptr<const PolicySnapshot> PolicyDirectory::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::string PolicyDirectory::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

Result<bool> PolicyDirectory::reload() {
  auto fail = [&](const Error& e) -> Result<bool> {
    ++failures_;
    std::lock_guard lock(mu_);
    last_error_ = e.message;
    return e;
  };
  auto read = read_all(dir_);
  if (!read.ok()) return fail(read.error());
  {
    std::lock_guard lock(mu_);
    if (read->second == contents_) {
      return false;  // unchanged (an earlier error, if any, still stands)
    }
  }
  auto snap = parse_snapshot(read->first);
  if (!snap.ok()) {
    // Remember the broken contents so the same error is not reported on every poll.
    std::lock_guard lock(mu_);
    contents_ = read->second;
    ++failures_;
    last_error_ = snap.error().message;
    return snap.error();
  }
  std::const_pointer_cast<PolicySnapshot>(*snap)->version = version_of(read->second);
  std::lock_guard lock(mu_);
  current_ = std::move(*snap);
  contents_ = std::move(read->second);
  last_error_.clear();
  ++reloads_;
  return true;
}

void PolicyDirectory::watch(std::chrono::milliseconds interval, std::function<void(const Result<bool>&)> on_reload) {
  if (watcher_.joinable()) return;
  watcher_ = std::thread([this, interval, on_reload = std::move(on_reload)] {
    std::unique_lock lock(stop_mu_);
    while (!stop_cv_.wait_for(lock, interval, [this] { return stopping_; })) {
      lock.unlock();
      auto r = reload();
      if (on_reload && (!r.ok() || *r)) on_reload(r);
      lock.lock();
    }
  });
}

}  // namespace vouch::admission
