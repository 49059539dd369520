// The package model every cataloger produces, every SBOM writer serializes and every reader
// returns, so that the scanner sees the same packages whichever way they came.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace vouch::sbom {

// Package types, named as syft names them (they appear in SBOMs and in reports).
namespace type {
inline constexpr const char* kDeb = "deb";
inline constexpr const char* kApk = "apk";
inline constexpr const char* kRpm = "rpm";
inline constexpr const char* kNpm = "npm";
inline constexpr const char* kPython = "python";
inline constexpr const char* kGoModule = "go-module";
inline constexpr const char* kJavaArchive = "java-archive";
inline constexpr const char* kRustCrate = "rust-crate";
inline constexpr const char* kGem = "gem";
inline constexpr const char* kPhpComposer = "php-composer";
inline constexpr const char* kDotnet = "dotnet";
inline constexpr const char* kUnknown = "";
}  // namespace type

// True for packages a distribution ships (deb, apk, rpm): their advisories come from the
// distribution, which backports fixes without changing upstream versions.
bool is_os_package_type(std::string_view type);

struct Location {
  std::string path;          // absolute path in the image or directory
  std::string layer_digest;  // "sha256:…" of the layer that holds the file, when known
  // Catalogs of every layer (--scope all-layers): whether the image's final filesystem still
  // shows this file (syft's `visible` annotation); unset otherwise.
  std::optional<bool> visible = std::nullopt;
};

struct Package {
  std::string id;       // unique within the document: SPDXID, CycloneDX bom-ref
  std::string name;
  std::string version;
  std::string type;     // one of sbom::type
  std::string purl;     // canonical package URL, empty when unknown
  std::vector<std::string> cpes;      // CPE 2.3 formatted strings
  std::vector<std::string> licenses;  // SPDX license expressions
  std::vector<Location> locations;
  std::string architecture;
  // The source package a binary OS package was built from (dpkg Source:, apk origin, rpm
  // source RPM). Empty when it is the package itself.
  std::string source_name;
  std::string source_version;  // empty when the same as `version`
  // The id of the OS package whose files include this package's evidence (a Python
  // distribution shipped by python3-yaml). Empty when no OS package owns it.
  std::string owner_id;
  // Paths of the files the package installed (dpkg info/*.list, apk R: lines), absolute.
  std::vector<std::string> files;
  // Ids of the packages this one depends on (dpkg Depends/Pre-Depends, resolved within the
  // catalog, virtual packages through Provides).
  std::vector<std::string> depends_on;
};

struct Distro {
  std::string id;          // os-release ID: debian, ubuntu, alpine, rhel, …
  std::string version_id;  // os-release VERSION_ID: 12, 22.04, 3.19.1, 9.3
  std::string pretty_name;
};

struct Sbom {
  std::string format;  // "spdx-2.3", "cyclonedx-1.6", …
  std::string name;    // what the SBOM describes (image reference, directory)
  std::optional<Distro> distro;
  std::vector<Package> packages;
  // Catalogs only: files skipped as malformed or not read, one line each naming the file
  // (not serialized).
  std::vector<std::string> warnings;

  const Package* find(std::string_view id) const;
};

}  // namespace vouch::sbom
