// Go executables: the build information the Go linker embeds in ELF files (the blob that starts
// with "\xff Go buildinf:", in section .go.buildinfo or the first writable data segment). Go 1.18
// and later store the runtime version and the module info inline as length-prefixed strings;
// older releases store pointers to Go string headers (4- or 8-byte, little or big endian).
#include <ctime>

#include <fmt/format.h>
#include <re2/re2.h>

#include "cataloger_common.h"
#include "elf.h"
#include "vouch/sbom/catalog.h"
#include "vouch/sbom/parsers.h"
#include "vouch/sbom/purl.h"

namespace vouch::sbom {
namespace {

constexpr std::string_view kBuildInfoMagic = "\xff Go buildinf:";
constexpr size_t kMaxSearch = 64 << 10;       // how far into the data segment the blob may start
constexpr uint64_t kMaxString = 32 << 20;     // a version or module info string
constexpr size_t kMaxModinfoLines = 1 << 16;

Result<std::string_view> uvarint_string(std::string_view& in) {
  uint64_t len = 0;
  int shift = 0;
  size_t i = 0;
  for (;; ++i) {
    if (i >= in.size() || shift > 63) return invalid_input("Go build info: truncated length");
    auto b = static_cast<unsigned char>(in[i]);
    len |= uint64_t{b & 0x7fu} << shift;
    shift += 7;
    if (!(b & 0x80)) break;
  }
  in.remove_prefix(i + 1);
  if (len > in.size() || len > kMaxString) return invalid_input("Go build info: string longer than the data");
  std::string_view s = in.substr(0, len);
  in.remove_prefix(len);
  return s;
}

std::string go_purl(std::string_view path, std::string_view version) {
  Purl p;
  p.type = "golang";
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) {
    p.name = std::string(path);
  } else {
    p.namespace_ = std::string(path.substr(0, slash));
    p.name = std::string(path.substr(slash + 1));
  }
  p.version = std::string(version);
  return format_purl(p, {});
}

// 2006-01-02T15:04:05Z (or with a numeric offset) to 20060102150405 in UTC; empty when malformed.
std::string pseudo_time(std::string_view t) {
  if (t.size() < 20) return {};
  struct tm tm {};
  auto num = [&](size_t off, size_t n, int& out) {
    out = 0;
    for (size_t i = off; i < off + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      out = out * 10 + (t[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, s;
  if (!num(0, 4, y) || t[4] != '-' || !num(5, 2, mo) || t[7] != '-' || !num(8, 2, d) || t[10] != 'T' ||
      !num(11, 2, h) || t[13] != ':' || !num(14, 2, mi) || t[16] != ':' || !num(17, 2, s))
    return {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  time_t when = timegm(&tm);
  std::string_view zone = t.substr(19);
  if (!zone.empty() && zone[0] == '.') {  // fractional seconds
    size_t k = 1;
    while (k < zone.size() && zone[k] >= '0' && zone[k] <= '9') ++k;
    zone.remove_prefix(k);
  }
  if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int zh = (zone[1] - '0') * 10 + (zone[2] - '0'), zm = (zone[4] - '0') * 10 + (zone[5] - '0');
    time_t off = zh * 3600 + zm * 60;
    when += zone[0] == '+' ? -off : off;
  } else if (zone != "Z") {
    return {};
  }
  struct tm out {};
  gmtime_r(&when, &out);
  return fmt::format("{:04}{:02}{:02}{:02}{:02}{:02}", out.tm_year + 1900, out.tm_mon + 1, out.tm_mday, out.tm_hour,
                     out.tm_min, out.tm_sec);
}

// A main-module version set at link time (-ldflags "-X pkg.version=1.2.3", "-X pkg.gitVersion=…",
// "-X pkg.Tag=…"), as syft recognizes it; "v" prefixed. Empty when there is none.
std::string version_from_ldflags(std::string_view ldflags) {
  static const RE2 kVersion(R"(\.(?:[gG]it)?(?:[bB]uild)?[vV]er(?:sion)?=(?:\S+/)*(v?\d+.\d+.\d+[-\w]*))");
  static const RE2 kTag(R"(\.[tT]ag=(?:\S+/)*(v?\d+.\d+.\d+[-\w]*))");
  std::string v;
  for (const RE2* re : {&kVersion, &kTag}) {
    if (RE2::PartialMatch(re2::StringPiece(ldflags.data(), ldflags.size()), *re, &v))
      return v.starts_with('v') ? v : "v" + v;
  }
  return {};
}

// The CPE syft gives the standard library: go1.21.5 -> golang:go:1.21.5:-, go1.21rc2 -> 1.21:rc2.
std::string stdlib_cpe(std::string_view go_version) {
  std::string_view v = go_version;
  if (v.starts_with("go")) v.remove_prefix(2);
  v = v.substr(0, v.find('+'));
  size_t n = 0;
  while (n < v.size() && ((v[n] >= '0' && v[n] <= '9') || v[n] == '.')) ++n;
  std::string_view num = v.substr(0, n), cand = v.substr(n);
  if (num.empty() || num.front() == '.') return {};
  if (!cand.empty() && !(cand.starts_with("rc") || cand.starts_with("beta") || cand.starts_with("alpha"))) cand = {};
  if (cand.empty()) return fmt::format("cpe:2.3:a:golang:go:{}:-:*:*:*:*:*:*", num);
  return fmt::format("cpe:2.3:a:golang:go:{}:{}:*:*:*:*:*:*", num, cand);
}

class GoBinaryCataloger : public Cataloger {
 public:
  std::string name() const override { return "go-binary"; }
  std::vector<std::string> globs() const override { return {}; }
  size_t max_file_bytes() const override { return size_t{512} << 20; }
  bool wants_file(const SourceFile& f) const override { return is_executable_candidate(f); }
  std::vector<std::string> magics() const override { return {std::string(detail::kElfMagic)}; }
  bool extract_uses_content_only() const override { return true; }

  Result<std::optional<std::string>> extract(const SourceFile& f, std::string_view content) const override {
    auto r = read_go_buildinfo(content);
    if (!r.ok()) return std::move(r).error().context(f.path);
    if (!*r) return std::optional<std::string>();
    // Runtime version, NUL, module info: all parse() needs.
    return std::optional<std::string>((*r)->first + std::string(1, '\0') + (*r)->second);
  }

  Status parse(const std::vector<FoundFile>& files, CatalogContext& ctx) const override {
    for (const auto& f : files) {
      size_t nul = f.content.find('\0');
      if (nul == std::string::npos) return internal_error(fmt::format("{}: no Go build info", f.file.path));
      auto info = parse_go_modinfo(std::string_view(f.content).substr(0, nul), std::string_view(f.content).substr(nul + 1));
      if (!info.ok()) {
        if (info.error().code != ErrorCode::kInvalidInput) return std::move(info).error().context(f.file.path);
        ctx.warnings.push_back(fmt::format("{}: {}", f.file.path, info.error().message));
        continue;
      }
      for (auto& p : go_packages(*info, Location{f.file.path, f.file.layer_digest})) ctx.packages.push_back(std::move(p));
    }
    return ok_status();
  }
};

}  // namespace

Result<std::optional<std::pair<std::string, std::string>>> read_go_buildinfo(std::string_view data) {
  using Out = std::optional<std::pair<std::string, std::string>>;
  VOUCH_ASSIGN_OR_RETURN(detail::ElfFile elf, detail::ElfFile::parse(data));
  std::string_view region;
  if (const auto* s = elf.find_section(".go.buildinfo")) {
    region = elf.section_data(*s);
  } else {
    for (const auto& p : elf.segments()) {
      // PT_LOAD, writable and not executable: where older linkers put the blob.
      if (p.type == 1 && (p.flags & 3) == 2) {
        region = elf.read_at_address(p.vaddr, kMaxSearch);
        break;
      }
    }
  }
  size_t at = std::string_view::npos;
  for (size_t off = 0; off + kBuildInfoMagic.size() <= region.size() && off < kMaxSearch; off += 16) {
    if (region.substr(off, kBuildInfoMagic.size()) == kBuildInfoMagic) {
      at = off;
      break;
    }
  }
  if (at == std::string_view::npos) return Out();
  std::string_view blob = region.substr(at);
  if (blob.size() < 32) return invalid_input("Go build info: truncated header");
  unsigned ptr_size = static_cast<unsigned char>(blob[14]);
  unsigned flags = static_cast<unsigned char>(blob[15]);
  std::string vers, mod;
  if (flags & 2) {
    std::string_view rest = blob.substr(32);
    VOUCH_ASSIGN_OR_RETURN(std::string_view v, uvarint_string(rest));
    VOUCH_ASSIGN_OR_RETURN(std::string_view m, uvarint_string(rest));
    vers = std::string(v);
    mod = std::string(m);
  } else {
    if (ptr_size != 4 && ptr_size != 8) return invalid_input(fmt::format("Go build info: pointer size {}", ptr_size));
    bool big = (flags & 1) != 0;
    auto read_ptr = [&](std::string_view b) -> uint64_t {
      uint64_t v = 0;
      for (unsigned i = 0; i < ptr_size; ++i) {
        unsigned k = big ? i : ptr_size - 1 - i;
        v = (v << 8) | static_cast<unsigned char>(b[k]);
      }
      return v;
    };
    if (blob.size() < 16 + 2 * ptr_size) return invalid_input("Go build info: truncated header");
    auto read_string = [&](uint64_t header_addr) -> Result<std::string> {
      std::string_view h = elf.read_at_address(header_addr, 2 * ptr_size);
      if (h.size() < 2 * ptr_size)
        return invalid_input(fmt::format("Go build info: string header at 0x{:x} outside the file", header_addr));
      uint64_t addr = read_ptr(h), len = read_ptr(h.substr(ptr_size));
      if (len > kMaxString) return invalid_input(fmt::format("Go build info: string of {} bytes", len));
      if (len == 0) return std::string();
      std::string_view s = elf.read_at_address(addr, len);
      if (s.size() != len) return invalid_input(fmt::format("Go build info: string at 0x{:x} outside the file", addr));
      return std::string(s);
    };
    VOUCH_ASSIGN_OR_RETURN(vers, read_string(read_ptr(blob.substr(16))));
    VOUCH_ASSIGN_OR_RETURN(mod, read_string(read_ptr(blob.substr(16 + ptr_size))));
  }
  if (vers.empty()) return Out();  // the blob without a runtime version: not a Go executable
  if (vers.find('\0') != std::string::npos) return invalid_input("Go build info: NUL in the Go version");
  // The module info is framed by 16-byte sentinels.
  if (mod.size() >= 33 && mod[mod.size() - 17] == '\n') mod = mod.substr(16, mod.size() - 32);
  return Out(std::make_pair(std::move(vers), std::move(mod)));
}

Result<GoBuildInfo> parse_go_modinfo(std::string_view go_version, std::string_view modinfo) {
  GoBuildInfo info;
  info.go_version = std::string(go_version);
  GoDependency* last = nullptr;
  size_t lineno = 0;
  auto fields = [](std::string_view s) {
    std::vector<std::string_view> out;
    while (true) {
      size_t tab = s.find('\t');
      out.push_back(s.substr(0, tab));
      if (tab == std::string_view::npos) break;
      s.remove_prefix(tab + 1);
    }
    return out;
  };
  for (std::string_view line : detail::split_lines(modinfo)) {
    if (++lineno > kMaxModinfoLines) return invalid_input("Go module info: too many lines");
    if (line.empty()) continue;
    auto err = [&](std::string_view what) {
      return invalid_input(fmt::format("Go module info line {}: {}", lineno, what));
    };
    auto f = fields(line);
    while (f.size() > 1 && f.back().empty()) f.pop_back();  // "mod\tpath\t(devel)\t"
    std::string_view key = f[0];
    if (key == "path") {
      if (f.size() != 2) return err("expected 'path\\t<import path>'");
      info.path = std::string(f[1]);
    } else if (key == "mod" || key == "dep") {
      if (f.size() < 3 || f.size() > 4 || f[1].empty()) return err("expected '<mod|dep>\\t<path>\\t<version>[\\t<sum>]'");
      GoDependency d;
      d.path = std::string(f[1]);
      d.version = std::string(f[2]);
      if (f.size() == 4) d.sum = std::string(f[3]);
      if (key == "mod") {
        info.main = std::move(d);
        last = &info.main;
      } else {
        info.deps.push_back(std::move(d));
        last = &info.deps.back();
      }
    } else if (key == "=>") {
      if (f.size() < 2 || f.size() > 4 || f[1].empty()) return err("expected '=>\\t<path>[\\t<version>[\\t<sum>]]'");
      if (!last) return err("replacement without a module before it");
      if (last->replace_path) return err("second replacement for one module");
      last->replace_path = std::string(f[1]);
      last->replace_version = f.size() > 2 ? std::string(f[2]) : std::string();
      last->replace_sum = f.size() > 3 ? std::string(f[3]) : std::string();
    } else if (key == "build") {
      std::string_view kv = line.size() > 6 ? line.substr(6) : std::string_view();
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos) return err("expected 'build\\t<key>=<value>'");
      std::string k(kv.substr(0, eq)), v(kv.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      info.settings.emplace_back(std::move(k), std::move(v));
    } else {
      return err(fmt::format("unknown key '{}'", key));
    }
  }
  return info;
}

std::vector<Package> go_packages(const GoBuildInfo& info, const Location& where) {
  std::vector<Package> out;
  auto make = [&](std::string path, std::string version) {
    Package p;
    p.type = type::kGoModule;
    p.name = std::move(path);
    p.version = std::move(version);
    p.purl = go_purl(p.name, p.version);
    p.locations.push_back(where);
    return p;
  };
  for (const auto& d : info.deps) {
    if (d.replace_path) out.push_back(make(*d.replace_path, d.replace_version.value_or("")));
    else out.push_back(make(d.path, d.version));
  }
  GoDependency main = info.main;
  if (main.path.empty() && !info.path.empty()) {
    main.path = info.path;
    main.version = "(devel)";
  }
  if (!main.path.empty()) {
    std::string version = main.version;
    if (version == "(devel)") {
      // As syft: a version given at link time, else the VCS pseudo-version, else "(devel)".
      std::string rev, when, ldflags;
      bool has_rev = false, has_time = false;
      for (const auto& [k, v] : info.settings) {
        if (k == "vcs.revision") rev = v, has_rev = true;
        if (k == "vcs.time") when = v, has_time = true;
        if (k == "-ldflags") ldflags = v;
      }
      if (std::string linked = version_from_ldflags(ldflags); !linked.empty()) {
        version = linked;
      } else if (has_rev && has_time) {
        std::string t = pseudo_time(when);
        if (t.empty()) t = "00010101000000";
        version = fmt::format("v0.0.0-{}-{}", t, rev.substr(0, 12));
      }
    }
    out.push_back(make(main.path, version));
  }
  std::string_view go_version = std::string_view(info.go_version).substr(0, info.go_version.find(' '));
  if (!out.empty() && !go_version.empty()) {
    std::string cpe = stdlib_cpe(go_version);
    if (!cpe.empty()) {
      Package p = make("stdlib", std::string(go_version));
      std::string_view v = go_version;
      if (v.starts_with("go")) v.remove_prefix(2);
      p.purl = go_purl("stdlib", v);
      p.cpes.push_back(cpe);
      p.licenses.push_back("BSD-3-Clause");
      out.push_back(std::move(p));
    }
  }
  return out;
}

std::unique_ptr<Cataloger> go_binary_cataloger() { return std::make_unique<GoBinaryCataloger>(); }

}  // namespace vouch::sbom
