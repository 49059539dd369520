// CPE candidates as syft generates them for each package type vouch catalogs, CPE 2.3
// formatted-string escaping, and the catalog post-pass that attaches them.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "vouch/sbom/catalog.h"
#include "vouch/sbom/cpe.h"

namespace vouch::sbom {
namespace {

using V = std::vector<std::string>;

Package pkg(std::string type, std::string name, std::string version, std::string purl = "") {
  Package p;
  p.type = std::move(type);
  p.name = std::move(name);
  p.version = std::move(version);
  p.purl = std::move(purl);
  return p;
}

TEST(Cpe, Escaping) {
  EXPECT_EQ(cpe_escape("openssl"), "openssl");
  EXPECT_EQ(cpe_escape("python_dateutil-2.8.2"), "python_dateutil-2.8.2");
  EXPECT_EQ(cpe_escape("@babel/core"), "\\@babel\\/core");
  EXPECT_EQ(cpe_escape("1:2.36-9+deb12u4"), "1\\:2.36-9\\+deb12u4");
  EXPECT_EQ(cpe_escape("3.0.15-1~deb12u1"), "3.0.15-1\\~deb12u1");
  EXPECT_EQ(cpe_escape("a*b?"), "a\\*b\\?");
  EXPECT_EQ(cpe_escape(""), "*");
}

TEST(Cpe, OsPackagesVendorAndProductAreTheName) {
  EXPECT_EQ(generate_cpes(pkg("deb", "libssl3", "3.0.15-1~deb12u1")),
            V{"cpe:2.3:a:libssl3:libssl3:3.0.15-1\\~deb12u1:*:*:*:*:*:*:*"});
  EXPECT_EQ(generate_cpes(pkg("apk", "busybox", "1.36.1-r15")),
            V{"cpe:2.3:a:busybox:busybox:1.36.1-r15:*:*:*:*:*:*:*"});
  // '-' and '_' variants of each field.
  EXPECT_EQ(generate_cpes(pkg("rpm", "python3-libs", "3.9.18-1.el9")),
            (V{"cpe:2.3:a:python3-libs:python3-libs:3.9.18-1.el9:*:*:*:*:*:*:*",
               "cpe:2.3:a:python3-libs:python3_libs:3.9.18-1.el9:*:*:*:*:*:*:*",
               "cpe:2.3:a:python3_libs:python3-libs:3.9.18-1.el9:*:*:*:*:*:*:*",
               "cpe:2.3:a:python3_libs:python3_libs:3.9.18-1.el9:*:*:*:*:*:*:*"}));
}

TEST(Cpe, LanguagePackages) {
  EXPECT_EQ(generate_cpes(pkg("npm", "lodash", "4.17.21", "pkg:npm/lodash@4.17.21")),
            V{"cpe:2.3:a:lodash:lodash:4.17.21:*:*:*:*:*:*:*"});
  EXPECT_EQ(generate_cpes(pkg("npm", "@babel/core", "7.22.5", "pkg:npm/%40babel/core@7.22.5")),
            V{"cpe:2.3:a:\\@babel\\/core:\\@babel\\/core:7.22.5:*:*:*:*:*:*:*"});
  EXPECT_EQ(generate_cpes(pkg("python", "requests", "2.31.0")),
            (V{"cpe:2.3:a:requests:requests:2.31.0:*:*:*:*:*:*:*",
               "cpe:2.3:a:requests:python-requests:2.31.0:*:*:*:*:*:*:*",
               "cpe:2.3:a:requests:python_requests:2.31.0:*:*:*:*:*:*:*",
               "cpe:2.3:a:python-requests:requests:2.31.0:*:*:*:*:*:*:*",
               "cpe:2.3:a:python-requests:python-requests:2.31.0:*:*:*:*:*:*:*",
               "cpe:2.3:a:python-requests:python_requests:2.31.0:*:*:*:*:*:*:*",
               "cpe:2.3:a:python:requests:2.31.0:*:*:*:*:*:*:*",
               "cpe:2.3:a:python:python-requests:2.31.0:*:*:*:*:*:*:*",
               "cpe:2.3:a:python:python_requests:2.31.0:*:*:*:*:*:*:*",
               "cpe:2.3:a:python_requests:requests:2.31.0:*:*:*:*:*:*:*",
               "cpe:2.3:a:python_requests:python-requests:2.31.0:*:*:*:*:*:*:*",
               "cpe:2.3:a:python_requests:python_requests:2.31.0:*:*:*:*:*:*:*"}));
  EXPECT_EQ(generate_cpes(pkg("go-module", "github.com/hashicorp/consul/api", "v1.20.0")),
            V{"cpe:2.3:a:hashicorp:consul:v1.20.0:*:*:*:*:*:*:*"});
  EXPECT_EQ(generate_cpes(pkg("go-module", "github.com/go-chi/chi/v5", "v5.0.10")),
            (V{"cpe:2.3:a:go-chi:chi:v5.0.10:*:*:*:*:*:*:*", "cpe:2.3:a:go_chi:chi:v5.0.10:*:*:*:*:*:*:*"}));
  EXPECT_EQ(generate_cpes(pkg("go-module", "golang.org/x/net", "v0.17.0")),
            V{"cpe:2.3:a:golang:net:v0.17.0:*:*:*:*:*:*:*"});
  EXPECT_EQ(generate_cpes(pkg("go-module", "stdlib", "go1.21.4")), V{"cpe:2.3:a:golang:go:1.21.4:-:*:*:*:*:*:*"});
  EXPECT_EQ(generate_cpes(pkg("java-archive", "log4j-core", "2.14.1",
                              "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")),
            (V{"cpe:2.3:a:apache:log4j-core:2.14.1:*:*:*:*:*:*:*", "cpe:2.3:a:apache:log4j_core:2.14.1:*:*:*:*:*:*:*",
               "cpe:2.3:a:log4j-core:log4j-core:2.14.1:*:*:*:*:*:*:*",
               "cpe:2.3:a:log4j-core:log4j_core:2.14.1:*:*:*:*:*:*:*",
               "cpe:2.3:a:log4j_core:log4j-core:2.14.1:*:*:*:*:*:*:*",
               "cpe:2.3:a:log4j_core:log4j_core:2.14.1:*:*:*:*:*:*:*"}));
  EXPECT_EQ(generate_cpes(pkg("gem", "rack", "2.2.8")), V{"cpe:2.3:a:rack:rack:2.2.8:*:*:*:*:*:*:*"});
  EXPECT_EQ(generate_cpes(pkg("rust-crate", "smallvec", "1.6.0")),
            V{"cpe:2.3:a:smallvec:smallvec:1.6.0:*:*:*:*:*:*:*"});
  EXPECT_EQ(generate_cpes(pkg("php-composer", "symfony/http-kernel", "5.4.20")),
            (V{"cpe:2.3:a:symfony:http-kernel:5.4.20:*:*:*:*:*:*:*", "cpe:2.3:a:symfony:http_kernel:5.4.20:*:*:*:*:*:*:*"}));
  EXPECT_EQ(generate_cpes(pkg("dotnet", "Newtonsoft.Json", "13.0.1")),
            V{"cpe:2.3:a:newtonsoft.json:newtonsoft.json:13.0.1:*:*:*:*:*:*:*"});
}

TEST(Cpe, NothingWithoutNameVersionOrKnownType) {
  EXPECT_TRUE(generate_cpes(pkg("deb", "bash", "")).empty());
  EXPECT_TRUE(generate_cpes(pkg("deb", "", "1")).empty());
  EXPECT_TRUE(generate_cpes(pkg("", "thing", "1")).empty());
  // Long names with both delimiters stay bounded.
  EXPECT_LE(generate_cpes(pkg("python", "a-b_c-d_e", "1")).size(), 32u);
}

TEST(Cpe, CatalogAttachesThem) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("vouch-cpe-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "var/lib/dpkg");
  fs::create_directories(root / "etc");
  std::ofstream(root / "etc/os-release") << "ID=debian\nVERSION_ID=\"12\"\n";
  std::ofstream(root / "var/lib/dpkg/status")
      << "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\n"
         "Version: 3.0.15-1~deb12u1\n";
  auto source = directory_source(root.string());
  auto sbom = catalog(*source, default_catalogers());
  fs::remove_all(root);
  ASSERT_TRUE(sbom.ok()) << sbom.error().message;
  ASSERT_EQ(sbom->packages.size(), 1u);
  EXPECT_EQ(sbom->packages[0].cpes, V{"cpe:2.3:a:libssl3:libssl3:3.0.15-1\\~deb12u1:*:*:*:*:*:*:*"});
}

}  // namespace
}  // namespace vouch::sbom
