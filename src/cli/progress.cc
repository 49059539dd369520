#include "cli/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

namespace vouch::cli {
namespace {

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::string_view(v) != "0";
}

size_t terminal_width(std::FILE* out) {
  winsize ws{};
  if (::ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10) return ws.ws_col;
  return 80;
}

}  // namespace

Progress::Progress(std::FILE* out, bool force) : out_(out), start_(std::chrono::steady_clock::now()) {
  const char* term = std::getenv("TERM");
  enabled_ = force || (::isatty(fileno(out)) == 1 && !(term && std::string_view(term) == "dumb") &&
                       !env_set("VOUCH_NO_PROGRESS"));
  if (const char* after = std::getenv("VOUCH_PROGRESS_AFTER_MS"); after && *after) {
    char* end = nullptr;
    long ms = std::strtol(after, &end, 10);
    if (end && *end == '\0' && ms >= 0 && ms <= 60000) delay_ = std::chrono::milliseconds(ms);
  }
  if (enabled_) thread_ = std::thread([this] { run(); });
}

Progress::~Progress() { finish(); }

void Progress::phase(std::string label, uint64_t total) {
  std::lock_guard lock(mu_);
  label_ = std::move(label);
  total_.store(total, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  // A new phase shows at once once the display is due.
  if (enabled_ && !stop_ && std::chrono::steady_clock::now() - start_ >= delay_) draw();
}

void Progress::finish() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (drawn_) {
    std::fputs("\r\033[K", out_);
    std::fflush(out_);
  }
}

void Progress::run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_; });
    if (stop_) break;
    if (label_.empty() || std::chrono::steady_clock::now() - start_ < delay_) continue;
    draw();
  }
}

// Called with mu_ held.
void Progress::draw() {
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  uint64_t done = done_.load(std::memory_order_relaxed), total = total_.load(std::memory_order_relaxed);
  size_t width = terminal_width(out_);
  std::string line;
  if (total > 0) {
    if (done > total) done = total;
    constexpr size_t kBar = 24;
    size_t filled = static_cast<size_t>(kBar * done / total);
    std::string bar(filled, '=');
    if (filled < kBar) bar += '>' + std::string(kBar - filled - 1, ' ');
    line = fmt::format("{} [{}] {:3}% {}/{} {:.1f}s", label_, bar, 100 * done / total, done, total, seconds);
  } else {
    static constexpr char kSpin[] = {'|', '/', '-', '\\'};
    line = fmt::format("{} {} {}{:.1f}s", label_, kSpin[tick_++ % 4], done ? fmt::format("{} ", done) : "", seconds);
  }
  if (line.size() >= width) line.resize(width - 1);
  std::fprintf(out_, "\r%s\033[K", line.c_str());
  std::fflush(out_);
  drawn_ = true;
}

}  // namespace vouch::cli
