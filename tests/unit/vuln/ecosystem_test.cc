// Distro ecosystems: os-release ID and VERSION_ID plus the package type to the OSV ecosystem
// names Red Hat, AlmaLinux, Rocky Linux, SUSE, openSUSE and Ubuntu publish under, and matching
// against records of those shapes (testdata/osv-families) with rpm and dpkg ordering.
#include <unistd.h>

#include <filesystem>
#include <set>

#include <gtest/gtest.h>

#include "vouch/sbom/purl.h"
#include "vouch/vuln/matcher.h"
#include "vouch/vuln/vex.h"

namespace vouch::vuln {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> names(std::string_view type, std::string_view id, std::string_view version) {
  auto e = distro_ecosystems(type, id, version);
  if (!e.ok()) return {"error: " + e.error().message};
  std::vector<std::string> out = e->exact;
  if (!e->family_prefix.empty()) out.push_back("family " + e->family_prefix + "|" + e->family_release);
  return out;
}

TEST(DistroEcosystems, OsReleaseToOsv) {
  using V = std::vector<std::string>;
  EXPECT_EQ(names("deb", "debian", "12"), V{"Debian:12"});
  EXPECT_EQ(names("deb", "ubuntu", "22.04"), (V{"Ubuntu:22.04:LTS", "Ubuntu:22.04", "Ubuntu:Pro:22.04:LTS"}));
  EXPECT_EQ(names("deb", "ubuntu", "23.10"), (V{"Ubuntu:23.10", "Ubuntu:23.10:LTS"}));
  EXPECT_EQ(names("apk", "alpine", "3.19.1"), V{"Alpine:v3.19"});
  EXPECT_EQ(names("apk", "wolfi", ""), V{"Wolfi"});
  EXPECT_EQ(names("rpm", "rhel", "9.6"), V{"family Red Hat:enterprise_linux:9::|"});
  EXPECT_EQ(names("rpm", "almalinux", "9.4"), V{"AlmaLinux:9"});
  EXPECT_EQ(names("rpm", "rocky", "8.10"), V{"Rocky Linux:8"});
  EXPECT_EQ(names("rpm", "sles", "15.5"), V{"family SUSE:Linux Enterprise |15 SP5"});
  EXPECT_EQ(names("rpm", "sles", "15"), V{"family SUSE:Linux Enterprise |15"});
  EXPECT_EQ(names("rpm", "sle-micro", "5.5"), V{"SUSE:Linux Enterprise Micro 5.5"});
  EXPECT_EQ(names("rpm", "opensuse-leap", "15.5"), V{"openSUSE:Leap 15.5"});
  EXPECT_EQ(names("rpm", "opensuse-tumbleweed", "20240801"), V{"openSUSE:Tumbleweed"});
  // Unknown distros and missing releases are reasons, not guesses.
  EXPECT_EQ(names("rpm", "fedora", "40").front().rfind("error: no OSV ecosystem for rpm packages of distro 'fedora'", 0), 0u);
  EXPECT_EQ(names("deb", "debian", "").front(), "error: distro 'debian': no release to select advisories");
  EXPECT_EQ(names("deb", "rhel", "9").front().rfind("error: ", 0), 0u);
}

TEST(DistroEcosystems, FamiliesTakeOnlyTheirRelease) {
  auto rhel = *distro_ecosystems("rpm", "rhel", "9.6");
  EXPECT_TRUE(ecosystem_applies(rhel, "Red Hat:enterprise_linux:9::appstream"));
  EXPECT_TRUE(ecosystem_applies(rhel, "Red Hat:enterprise_linux:9::baseos"));
  EXPECT_FALSE(ecosystem_applies(rhel, "Red Hat:enterprise_linux:8::baseos"));
  EXPECT_FALSE(ecosystem_applies(rhel, "Red Hat:rhel_eus:9.4::baseos"));
  auto sles = *distro_ecosystems("rpm", "sles", "15.5");
  EXPECT_TRUE(ecosystem_applies(sles, "SUSE:Linux Enterprise Module for Basesystem 15 SP5"));
  EXPECT_TRUE(ecosystem_applies(sles, "SUSE:Linux Enterprise Server 15 SP5"));
  EXPECT_TRUE(ecosystem_applies(sles, "SUSE:Linux Enterprise Server 15 SP5-LTSS"));
  EXPECT_FALSE(ecosystem_applies(sles, "SUSE:Linux Enterprise Server 15 SP4-LTSS"));
  EXPECT_FALSE(ecosystem_applies(sles, "SUSE:Linux Enterprise Server 15 SP50"));
  EXPECT_FALSE(ecosystem_applies(sles, "openSUSE:Leap 15.5"));
  auto ubuntu = *distro_ecosystems("deb", "ubuntu", "20.04");
  EXPECT_TRUE(ecosystem_applies(ubuntu, "Ubuntu:Pro:20.04:LTS"));
  EXPECT_FALSE(ecosystem_applies(ubuntu, "Ubuntu:Pro:FIPS:20.04:LTS"));
  EXPECT_FALSE(ecosystem_applies(ubuntu, "Ubuntu:22.04:LTS"));
}

class FamilyMatchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("vouch-family-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    auto s = open_sqlite_store(database_file(dir_), true);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value().release();
    fs::path fixtures = fs::path(VOUCH_SOURCE_DIR) / "tests" / "unit" / "vuln" / "testdata" / "osv-families";
    auto stats = import_osv(*store_, {fixtures});
    ASSERT_TRUE(stats.ok()) << stats.error().message;
    ASSERT_EQ(stats->added, 7u);
    ASSERT_EQ(stats->malformed, 0u);
  }
  static void TearDownTestSuite() {
    delete store_;
    store_ = nullptr;
    fs::remove_all(dir_);
  }

  // One package on its distro: the (id, fixed versions, ecosystem) of each finding. Distro
  // records name their CVE under `upstream`: the finding is shown under it.
  static std::set<std::string> scan(const std::string& purl, const std::string& source = "",
                                    std::optional<sbom::Distro> distro = std::nullopt) {
    sbom::Sbom doc;
    doc.distro = distro;
    sbom::Package p;
    auto parsed = sbom::parse_purl(purl);
    EXPECT_TRUE(parsed.ok()) << purl;
    p.id = "p";
    p.name = parsed->name;
    p.version = parsed->version;
    p.type = parsed->type;
    p.purl = purl;
    p.source_name = source;
    doc.packages.push_back(p);
    auto r = match_sbom(doc, *store_);
    EXPECT_TRUE(r.ok()) << r.error().message;
    std::set<std::string> out;
    for (const auto& f : r->vulnerabilities) {
      // The record's own id stays among the aliases.
      EXPECT_FALSE(f.aliases.empty()) << f.id;
      std::string fixed;
      for (const auto& v : f.fixed_versions) fixed += (fixed.empty() ? "" : ",") + v;
      out.insert(f.id + " " + fixed + " " + f.ecosystem);
    }
    return out;
  }

  static inline fs::path dir_;
  static inline VulnerabilityStore* store_ = nullptr;
};

using S = std::set<std::string>;

TEST_F(FamilyMatchTest, RedHatStreamsWithRpmOrdering) {
  // 10.el9 < 10.el9_6.1: affected; the appstream and baseos entries agree on one fix, the EUS
  // stream's fix is not offered.
  EXPECT_EQ(scan("pkg:rpm/redhat/sudo@1.9.5p2-10.el9?arch=x86_64&distro=rhel-9.6"),
            S{"CVE-2025-32462 0:1.9.5p2-10.el9_6.1 Red Hat:enterprise_linux:9"});
  EXPECT_EQ(scan("pkg:rpm/redhat/sudo@1.9.5p2-10.el9_4.1?arch=x86_64&distro=rhel-9.6"),
            S{"CVE-2025-32462 0:1.9.5p2-10.el9_6.1 Red Hat:enterprise_linux:9"});
  EXPECT_EQ(scan("pkg:rpm/redhat/sudo@1.9.5p2-10.el9_6.1?arch=x86_64&distro=rhel-9.6"), S{});
  // The distro from the SBOM when the purl has no qualifier; RHEL 8 has no such record.
  EXPECT_EQ(scan("pkg:rpm/redhat/sudo@1.9.5p2-9.el9?arch=x86_64", "", sbom::Distro{"rhel", "9.2", ""}).size(), 1u);
  EXPECT_EQ(scan("pkg:rpm/redhat/sudo@1.8.29-8.el8?arch=x86_64&distro=rhel-8.8"), S{});
}

TEST_F(FamilyMatchTest, AlmaAndRockyThroughSourceAndBinaryNames) {
  // Epoch 1 from the purl; ALSA names both the source (openssl) and the binary.
  EXPECT_EQ(scan("pkg:rpm/almalinux/openssl-libs@1.1.1k-5.el8_5?arch=x86_64&epoch=1&distro=almalinux-8.5", "openssl"),
            S{"CVE-2022-0778 1:1.1.1k-6.el8_5 AlmaLinux:8"});
  EXPECT_EQ(scan("pkg:rpm/almalinux/openssl-libs@1.1.1k-6.el8_5?arch=x86_64&epoch=1&distro=almalinux-8.5", "openssl"),
            S{});
  // Without its epoch a version orders before every epoch-1 version.
  EXPECT_EQ(scan("pkg:rpm/almalinux/openssl-libs@1.1.1k-7.el8?arch=x86_64&distro=almalinux-8.5", "openssl").size(), 1u);
  // RLSA names only the binary package.
  EXPECT_EQ(scan("pkg:rpm/rocky/openssl-libs@1.1.1k-5.el8_5?arch=x86_64&epoch=1&distro=rocky-8.5", "openssl"),
            S{"CVE-2022-0778 1:1.1.1k-6.el8_5 Rocky Linux:8"});
}

TEST_F(FamilyMatchTest, UbuntuLtsAndProWithDpkgOrdering) {
  EXPECT_EQ(scan("pkg:deb/ubuntu/libssl1.1@1.1.1f-1ubuntu2.11?arch=amd64&distro=ubuntu-20.04", "openssl"),
            S{"CVE-2022-0778 1.1.1f-1ubuntu2.12 Ubuntu:20.04:LTS"});
  EXPECT_EQ(scan("pkg:deb/ubuntu/libssl1.1@1.1.1f-1ubuntu2.12?arch=amd64&distro=ubuntu-20.04", "openssl"), S{});
  EXPECT_EQ(scan("pkg:deb/ubuntu/libssl1.1@1.1.1f-1ubuntu2.2?arch=amd64&distro=ubuntu-20.04", "openssl").size(), 1u);
  // 16.04 is in extended maintenance: the fix is an ESM version (USN-6188-1), +esm8 < +esm9.
  EXPECT_EQ(scan("pkg:deb/ubuntu/libssl1.0.0@1.0.2g-1ubuntu4.20+esm8?arch=amd64&distro=ubuntu-16.04", "openssl"),
            S{"CVE-2023-2650 1.0.2g-1ubuntu4.20+esm9 Ubuntu:16.04:LTS"});
  EXPECT_EQ(scan("pkg:deb/ubuntu/libssl1.0.0@1.0.2g-1ubuntu4.20+esm9?arch=amd64&distro=ubuntu-16.04", "openssl"), S{});
  // 22.04 is in neither entry.
  EXPECT_EQ(scan("pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.1?arch=amd64&distro=ubuntu-22.04", "openssl"), S{});
}

TEST_F(FamilyMatchTest, SuseModulesAndOpenSuse) {
  // SUSE-SU-2023:2620-1, filed under the Basesystem module of SLES 15 SP5. An advisory with
  // several upstream CVEs is reported under its own id.
  EXPECT_EQ(scan("pkg:rpm/suse/libopenssl3@3.0.8-150500.3.1?arch=x86_64&distro=sles-15.5", "openssl-3"),
            S{"SUSE-SU-2023:2620-1 3.0.8-150500.5.3.1 SUSE:Linux Enterprise Server 15 SP5"});
  EXPECT_EQ(scan("pkg:rpm/suse/libopenssl3@3.0.8-150500.5.3.1?arch=x86_64&distro=sles-15.5", "openssl-3"), S{});
  // SP4 takes only SP4's record (SUSE-SU-2022:3843-1), SP5 only SP5's.
  EXPECT_EQ(scan("pkg:rpm/suse/libopenssl3@3.0.1-150400.4.7.1?arch=x86_64&distro=sles-15.4", "openssl-3"),
            S{"SUSE-SU-2022:3843-1 3.0.1-150400.4.11.1 SUSE:Linux Enterprise Server 15 SP4"});
  EXPECT_EQ(scan("pkg:rpm/opensuse/libopenssl3@3.0.8-150500.3.1?arch=x86_64&distro=opensuse-leap-15.5", "openssl-3"),
            S{"SUSE-SU-2023:2620-1 3.0.8-150500.5.3.1 openSUSE:Leap 15.5"});
  EXPECT_EQ(scan("pkg:rpm/opensuse/libopenssl3@3.0.8-150500.3.1?arch=x86_64&distro=opensuse-tumbleweed-20240801",
                 "openssl-3"),
            S{});
}

TEST_F(FamilyMatchTest, VexAboutTheUpstreamCveSuppressesTheDistroFinding) {
  sbom::Sbom doc;
  sbom::Package p;
  p.id = "sudo";
  p.name = "sudo";
  p.version = "1.9.5p2-10.el9";
  p.type = "rpm";
  p.purl = "pkg:rpm/redhat/sudo@1.9.5p2-10.el9?arch=x86_64&distro=rhel-9.6";
  doc.packages.push_back(p);
  auto report = match_sbom(doc, *store_);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(report->vulnerabilities.size(), 1u);
  EXPECT_EQ(report->vulnerabilities[0].aliases, std::vector<std::string>{"RHSA-2025:9978"});
  auto statements = parse_openvex(R"({
    "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/2",
    "author": "Platform team", "timestamp": "2025-07-02T00:00:00Z", "version": 1,
    "statements": [{"vulnerability": {"name": "CVE-2025-32462"},
                    "products": [{"@id": "pkg:rpm/redhat/sudo@1.9.5p2-10.el9"}],
                    "status": "not_affected", "justification": "vulnerable_code_not_present",
                    "impact_statement": "no sudoers rule names a host"}]})",
                                  "vex.json");
  ASSERT_TRUE(statements.ok()) << statements.error().message;
  apply_vex(*statements, "", *report);
  EXPECT_TRUE(report->vulnerabilities.empty());
  ASSERT_EQ(report->suppressed.size(), 1u);
  EXPECT_EQ(report->suppressed[0].vex_status, "not_affected");
}

}  // namespace
}  // namespace vouch::vuln
