// The parsers behind the binary, Rust, Java and rpm catalogers, exposed for tests and fuzzing.
// Every input is untrusted: sizes and counts are bounded, errors name what was malformed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/sbom/package.h"

namespace vouch::sbom {

// --- ELF --------------------------------------------------------------------------------------

// A section's bytes, found by name in an ELF file (32/64-bit, either byte order). std::nullopt
// when the file has no such section; an error when the ELF headers are malformed.
Result<std::optional<std::string_view>> elf_section(std::string_view elf, std::string_view name);

// --- Go build info ----------------------------------------------------------------------------

struct GoDependency {
  std::string path, version, sum;
  // `=>` replacement, when there is one.
  std::optional<std::string> replace_path, replace_version, replace_sum;
};

struct GoBuildInfo {
  std::string go_version;  // "go1.21.5"
  std::string path;        // the main package's import path
  GoDependency main;       // empty path when the binary was not built in module mode
  std::vector<GoDependency> deps;
  std::vector<std::pair<std::string, std::string>> settings;  // build key=value
};

// The two strings the Go linker embeds (runtime version and module info) from an ELF
// executable; std::nullopt when it is no Go binary (no build info blob).
Result<std::optional<std::pair<std::string, std::string>>> read_go_buildinfo(std::string_view elf);
// Parses the module info text (as `go version -m` prints it, with or without the sentinels).
Result<GoBuildInfo> parse_go_modinfo(std::string_view go_version, std::string_view modinfo);
// The go-module packages syft reports for one binary: every dependency (replacement applied),
// the main module (a "(devel)" version becomes the version given at link time in -ldflags, else
// the VCS pseudo-version when the build settings carry revision and time) and the Go standard
// library ("stdlib", with its CPE).
std::vector<Package> go_packages(const GoBuildInfo& info, const Location& where);

// --- Rust -------------------------------------------------------------------------------------

// [[package]] entries of a Cargo.lock (name, version, dependencies as provisional ids).
Result<std::vector<Package>> parse_cargo_lock(std::string_view text, const Location& where);
// The JSON that cargo-auditable embeds (zlib-compressed, section .dep-v0); std::nullopt when
// the ELF has none. Inflated output is bounded.
Result<std::optional<std::string>> read_cargo_auditable(std::string_view elf);
// The runtime crates of that JSON, with their dependencies as provisional ids.
Result<std::vector<Package>> parse_cargo_auditable(std::string_view json, const Location& where);

// --- Java -------------------------------------------------------------------------------------

// The Maven packages in a JAR/WAR/EAR (pom.properties, else MANIFEST.MF), nested archives
// included up to a bounded depth; `where` names the outer archive.
Result<std::vector<Package>> parse_java_archive(std::string_view content, const Location& where);

// --- rpm --------------------------------------------------------------------------------------

struct RpmHeader {
  std::string name, version, release, arch, source_rpm, license, vendor;
  std::optional<int64_t> epoch;
  std::vector<std::string> files;  // absolute paths (dirnames[dirindexes[i]] + basenames[i])
};

// One header blob as the rpm databases store it (no lead magic: index count, data length,
// index entries, data).
Result<RpmHeader> parse_rpm_header(std::string_view blob);

}  // namespace vouch::sbom
