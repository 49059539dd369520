// Rust crates: Cargo.lock files, and the dependency list cargo-auditable embeds in executables
// (ELF section .dep-v0: zlib-compressed JSON, {"packages":[{"name","version","source","kind",
// "dependencies":[indexes],"root"}]}). As syft does, only runtime crates of a binary are reported.
#include <zlib.h>

#include <map>

#include <fmt/format.h>

#include "cataloger_common.h"
#include "cataloger_lang.h"
#include "elf.h"
#include "vouch/base/json.h"
#include "vouch/sbom/catalog.h"
#include "vouch/sbom/parsers.h"
#include "vouch/sbom/purl.h"

namespace vouch::sbom {
namespace {

constexpr size_t kMaxAuditJson = 8 << 20;    // inflated .dep-v0
constexpr size_t kMaxCrates = 100000;

std::string cargo_purl(const std::string& name, const std::string& version) {
  Purl p;
  p.type = "cargo";
  p.name = name;
  p.version = version;
  return format_purl(p, {});
}

Package crate(std::string name, std::string version, const Location& where) {
  Package p;
  p.type = type::kRustCrate;
  p.name = std::move(name);
  p.version = std::move(version);
  p.purl = cargo_purl(p.name, p.version);
  p.locations.push_back(where);
  return p;
}

// A TOML basic string ("…" with backslash escapes) or literal string ('…'), alone on the value side.
Result<std::string> toml_string(std::string_view v, size_t lineno) {
  auto err = [&]() { return invalid_input(fmt::format("line {}: expected a quoted string", lineno)); };
  if (v.size() < 2) return err();
  char q = v.front();
  if ((q != '"' && q != '\'') || v.back() != q) return err();
  v = v.substr(1, v.size() - 2);
  if (q == '\'') return std::string(v);
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\') {
      if (v[i] == '"') return err();
      out += v[i];
      continue;
    }
    if (++i >= v.size()) return err();
    switch (v[i]) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      default: return invalid_input(fmt::format("line {}: unsupported escape '\\{}'", lineno, v[i]));
    }
  }
  return out;
}

class CargoAuditableCataloger : public Cataloger {
 public:
  std::string name() const override { return "cargo-auditable"; }
  std::vector<std::string> globs() const override { return {}; }
  size_t max_file_bytes() const override { return size_t{512} << 20; }
  bool wants_file(const SourceFile& f) const override { return is_executable_candidate(f); }
  std::vector<std::string> magics() const override { return {std::string(detail::kElfMagic)}; }
  bool extract_uses_content_only() const override { return true; }
  Result<std::optional<std::string>> extract(const SourceFile& f, std::string_view content) const override {
    auto r = read_cargo_auditable(content);
    if (!r.ok()) return std::move(r).error().context(f.path);
    return std::move(r).value();
  }
  Status parse(const std::vector<FoundFile>& files, CatalogContext& ctx) const override {
    return detail::parse_each_file(files, ctx, [](const FoundFile& f) { return parse_cargo_auditable(f.content, detail::location_of(f)); });
  }
};

}  // namespace

Result<std::vector<Package>> parse_cargo_lock(std::string_view text, const Location& where) {
  std::vector<Package> out;
  std::vector<std::vector<std::string>> wanted;  // per package: its dependencies as written
  bool in_package = false, in_deps = false;
  std::optional<std::string> name, version;
  std::vector<std::string> deps;
  size_t lineno = 0, block_line = 0;
  auto flush = [&]() -> Status {
    if (in_package) {
      if (!name || !version)
        return invalid_input(fmt::format("[[package]] at line {}: no name or version", block_line));
      if (out.size() >= kMaxCrates) return invalid_input("more than 100000 packages");
      out.push_back(crate(*name, *version, where));
      out.back().id = fmt::format("cargo-lock-{}-{}", where.path, out.size());  // provisional
      wanted.push_back(std::move(deps));
    }
    name.reset();
    version.reset();
    deps.clear();
    return ok_status();
  };
  // The items of an array of strings on one line ("a", "b 1.0",); true once ']' closes it.
  auto array_items = [&](std::string_view rest) -> Result<bool> {
    while (true) {
      rest = detail::trim(rest);
      if (rest.empty()) return false;
      if (rest.front() == ']') return true;
      if (rest.front() == ',') {
        rest.remove_prefix(1);
        continue;
      }
      char q = rest.front();
      size_t end = q == '"' || q == '\'' ? rest.find(q, 1) : std::string_view::npos;
      if (end == std::string_view::npos)
        return invalid_input(fmt::format("line {}: expected a quoted string in the array", lineno));
      VOUCH_ASSIGN_OR_RETURN(std::string item, toml_string(rest.substr(0, end + 1), lineno));
      if (deps.size() >= kMaxCrates) return invalid_input(fmt::format("line {}: too many dependencies", lineno));
      deps.push_back(std::move(item));
      rest.remove_prefix(end + 1);
    }
  };
  for (std::string_view raw : detail::split_lines(text)) {
    ++lineno;
    std::string_view line = detail::trim(raw);
    if (line.empty() || line.front() == '#') continue;
    if (in_deps) {
      VOUCH_ASSIGN_OR_RETURN(bool closed, array_items(line));
      in_deps = !closed;
      continue;
    }
    if (line.front() == '[') {
      VOUCH_RETURN_IF_ERROR(flush());
      in_package = line == "[[package]]";
      block_line = lineno;
      continue;
    }
    if (!in_package) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = detail::trim(line.substr(0, eq)), value = detail::trim(line.substr(eq + 1));
    if (key == "name") {
      VOUCH_ASSIGN_OR_RETURN(name, toml_string(value, lineno));
    } else if (key == "version") {
      VOUCH_ASSIGN_OR_RETURN(version, toml_string(value, lineno));
    } else if (key == "dependencies") {
      if (value.empty() || value.front() != '[')
        return invalid_input(fmt::format("line {}: dependencies is no array", lineno));
      VOUCH_ASSIGN_OR_RETURN(bool closed, array_items(value.substr(1)));
      in_deps = !closed;
    }
  }
  if (in_deps) return invalid_input(fmt::format("line {}: unterminated dependencies array", lineno));
  VOUCH_RETURN_IF_ERROR(flush());
  // "name", "name version" or "name version (source)": the crate it names in this lock file.
  std::multimap<std::string, size_t> by_name;
  for (size_t i = 0; i < out.size(); ++i) by_name.emplace(out[i].name, i);
  for (size_t i = 0; i < out.size(); ++i) {
    for (const auto& d : wanted[i]) {
      std::string_view sv = d;
      size_t sp = sv.find(' ');
      std::string dep_name(sv.substr(0, sp));
      std::string dep_version;
      if (sp != std::string_view::npos) {
        std::string_view v = sv.substr(sp + 1);
        dep_version = std::string(v.substr(0, v.find(' ')));
      }
      auto [lo, hi] = by_name.equal_range(dep_name);
      for (auto it = lo; it != hi; ++it) {
        if (!dep_version.empty() && out[it->second].version != dep_version) continue;
        out[i].depends_on.push_back(out[it->second].id);
        break;
      }
    }
  }
  return out;
}

Result<std::optional<std::string>> read_cargo_auditable(std::string_view elf) {
  VOUCH_ASSIGN_OR_RETURN(std::optional<std::string_view> section, elf_section(elf, ".dep-v0"));
  if (!section) return std::optional<std::string>();
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return internal_error("zlib: inflateInit failed");
  std::string out;
  out.resize(64 << 10);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(section->data()));
  zs.avail_in = static_cast<uInt>(std::min<size_t>(section->size(), UINT32_MAX));
  int rc = Z_OK;
  while (true) {
    if (zs.total_out == out.size()) {
      if (out.size() >= kMaxAuditJson) {
        inflateEnd(&zs);
        return invalid_input(fmt::format(".dep-v0: inflates to more than {} bytes", kMaxAuditJson));
      }
      out.resize(std::min(out.size() * 2, kMaxAuditJson));
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + zs.total_out);
    zs.avail_out = static_cast<uInt>(out.size() - zs.total_out);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK) {
      inflateEnd(&zs);
      return invalid_input(fmt::format(".dep-v0: not zlib data ({})", rc == Z_BUF_ERROR ? "truncated" : "corrupt"));
    }
  }
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return std::optional<std::string>(std::move(out));
}

Result<std::vector<Package>> parse_cargo_auditable(std::string_view text, const Location& where) {
  json::ParseLimits limits;
  limits.max_bytes = kMaxAuditJson;
  auto doc = json::parse(text, limits);
  if (!doc.ok()) return std::move(doc).error().context(".dep-v0");
  json::Node root = json::Node::root(*doc);
  VOUCH_ASSIGN_OR_RETURN(json::Node packages, root.get("packages"));
  VOUCH_ASSIGN_OR_RETURN(std::vector<json::Node> list, packages.array());
  if (list.size() > kMaxCrates) return invalid_input(".dep-v0: more than 100000 packages");
  std::vector<Package> out;
  std::vector<std::optional<size_t>> index(list.size());  // audit index -> position in out
  for (size_t i = 0; i < list.size(); ++i) {
    VOUCH_ASSIGN_OR_RETURN(std::string name, list[i].get_string("name"));
    VOUCH_ASSIGN_OR_RETURN(std::string version, list[i].get_string("version"));
    std::string kind = "runtime";
    if (list[i].has("kind")) {
      VOUCH_ASSIGN_OR_RETURN(kind, list[i].get_string("kind"));
    }
    if (kind != "runtime" || name.empty() || version.empty()) continue;
    index[i] = out.size();
    Package p = crate(std::move(name), std::move(version), where);
    p.id = fmt::format("cargo-auditable-{}-{}", where.path, i);  // provisional; catalog() assigns the final ids
    out.push_back(std::move(p));
  }
  for (size_t i = 0; i < list.size(); ++i) {
    if (!index[i]) continue;
    auto deps = list[i].find("dependencies");
    if (!deps) continue;
    VOUCH_ASSIGN_OR_RETURN(std::vector<json::Node> ds, deps->array());
    for (const auto& d : ds) {
      VOUCH_ASSIGN_OR_RETURN(int64_t k, d.int64());
      if (k < 0 || static_cast<size_t>(k) >= list.size())
        return invalid_input(fmt::format(".dep-v0: {}: dependency index {} out of range", d.path(), k));
      if (index[k]) out[*index[i]].depends_on.push_back(out[*index[k]].id);
    }
  }
  return out;
}

std::unique_ptr<Cataloger> cargo_lock_cataloger() {
  return std::make_unique<detail::FileCataloger>(
      "cargo-lock", std::vector<std::string>{"**/Cargo.lock"}, size_t{16} << 20,
      [](const FoundFile& f) { return parse_cargo_lock(f.content, detail::location_of(f)); });
}
std::unique_ptr<Cataloger> cargo_auditable_cataloger() { return std::make_unique<CargoAuditableCataloger>(); }

}  // namespace vouch::sbom
