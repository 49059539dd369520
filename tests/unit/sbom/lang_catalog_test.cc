// The language catalogers (npm, Python, Ruby gems, PHP Composer, .NET) over directory trees
// built by the test, ownership by OS packages, and malformed input: skipped with one warning
// line naming the file, never a failed catalog.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "vouch/sbom/catalog.h"

namespace vouch::sbom {
namespace {

namespace fs = std::filesystem;

class Tree {
 public:
  Tree() {
    root_ = fs::temp_directory_path() / ("vouch-lang-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  ~Tree() { fs::remove_all(root_); }
  Tree& put(const std::string& rel, const std::string& content) {
    fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return *this;
  }
  Sbom catalog() const {
    auto r = sbom::catalog(*directory_source(root_.string()), default_catalogers());
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(r).value() : Sbom{};
  }

 private:
  fs::path root_;
};

std::vector<std::string> purls(const Sbom& s, std::string_view type) {
  std::vector<std::string> out;
  for (const auto& p : s.packages)
    if (p.type == type) out.push_back(p.purl);
  std::sort(out.begin(), out.end());
  return out;
}

const Package* find(const Sbom& s, std::string_view type, std::string_view name) {
  for (const auto& p : s.packages)
    if (p.type == type && p.name == name) return &p;
  return nullptr;
}

// One warning naming `path`, on one line.
void expect_one_warning(const Sbom& s, std::string_view path, std::string_view why) {
  ASSERT_EQ(s.warnings.size(), 1u) << (s.warnings.empty() ? "" : s.warnings[0]);
  EXPECT_TRUE(s.warnings[0].starts_with(std::string(path) + ": ")) << s.warnings[0];
  EXPECT_NE(s.warnings[0].find(why), std::string::npos) << s.warnings[0];
  EXPECT_EQ(s.warnings[0].find('\n'), std::string::npos);
}

TEST(NpmCatalog, LockV1Nested) {
  Tree t;
  t.put("app/package-lock.json", R"({"name":"app","version":"1.0.0","lockfileVersion":1,"dependencies":{
      "a":{"version":"1.0.0","dependencies":{"b":{"version":"2.0.0"}}},
      "@s/c":{"version":"3.0.0"}}})");
  // Installed package.json of a nested dependency: the same package, one more location.
  t.put("app/node_modules/a/node_modules/b/package.json", R"({"name":"b","version":"2.0.0","license":"MIT"})");
  Sbom s = t.catalog();
  EXPECT_EQ(purls(s, type::kNpm), (std::vector<std::string>{"pkg:npm/%40s/c@3.0.0", "pkg:npm/a@1.0.0",
                                                             "pkg:npm/app@1.0.0", "pkg:npm/b@2.0.0"}));
  const Package* b = find(s, type::kNpm, "b");
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(b->locations.size(), 2u);
  EXPECT_EQ(b->locations[0].path, "/app/package-lock.json");
  EXPECT_EQ(b->locations[1].path, "/app/node_modules/a/node_modules/b/package.json");
  EXPECT_EQ(b->licenses, std::vector<std::string>{"MIT"});
  EXPECT_TRUE(s.warnings.empty());
}

TEST(NpmCatalog, LockV2AndV3) {
  for (int v : {2, 3}) {
    Tree t;
    t.put("p/package-lock.json", R"({"name":"proj","lockfileVersion":)" + std::to_string(v) + R"(,"packages":{
        "":{"name":"proj","version":"0.1.0"},
        "node_modules/@babel/code-frame":{"version":"7.26.2","license":"MIT"},
        "node_modules/x/node_modules/y":{"version":"1.2.3","license":{"type":"ISC"}},
        "node_modules/alias":{"name":"real-name","version":"4.0.0","license":"Apache 2.0"},
        "node_modules/ws-link":{"resolved":"packages/ws","link":true},
        "packages/ws":{"name":"ws","version":"0.0.1"}}})");
    // A lock file shipped inside a package describes that package's development: ignored.
    t.put("p/node_modules/x/package-lock.json", R"({"lockfileVersion":3,"packages":{"node_modules/q":{"version":"9"}}})");
    Sbom s = t.catalog();
    EXPECT_EQ(purls(s, type::kNpm),
              (std::vector<std::string>{"pkg:npm/%40babel/code-frame@7.26.2", "pkg:npm/proj@0.1.0",
                                        "pkg:npm/real-name@4.0.0", "pkg:npm/ws@0.0.1", "pkg:npm/y@1.2.3"}))
        << v;
    EXPECT_EQ(find(s, type::kNpm, "@babel/code-frame")->licenses, std::vector<std::string>{"MIT"});
    EXPECT_EQ(find(s, type::kNpm, "y")->licenses, std::vector<std::string>{"ISC"});
    EXPECT_EQ(find(s, type::kNpm, "real-name")->licenses, std::vector<std::string>{"Apache-2.0"});
  }
}

TEST(NpmCatalog, InstalledWithoutLock) {
  Tree t;
  t.put("usr/lib/node_modules/npm/package.json", R"({"name":"npm","version":"9.2.0","license":"Artistic-2.0"})");
  t.put("usr/lib/node_modules/@scope/tool/package.json", R"({"name":"@scope/tool","version":"1.0.0",
      "licenses":[{"type":"MIT"},{"type":"Apache-2.0"}]})");
  // Without a version it is a template or a fixture, not an installed package.
  t.put("usr/lib/node_modules/tmpl/package.json", R"({"name":"tmpl"})");
  Sbom s = t.catalog();
  EXPECT_EQ(purls(s, type::kNpm), (std::vector<std::string>{"pkg:npm/%40scope/tool@1.0.0", "pkg:npm/npm@9.2.0"}));
  EXPECT_EQ(find(s, type::kNpm, "@scope/tool")->licenses, (std::vector<std::string>{"MIT", "Apache-2.0"}));
  EXPECT_TRUE(s.warnings.empty());
}

TEST(NpmCatalog, MalformedIsSkippedWithOneLine) {
  struct Case {
    const char* lock;
    const char* why;
  } cases[] = {
      {"{\"lockfileVersion\":3,\"packages\":{\"node_modules/a\":", "JSON"},
      {"[1,2]", "not a JSON object"},
      {"{\"packages\":{}}", "lockfileVersion"},
      {"{\"lockfileVersion\":7,\"packages\":{}}", "lockfileVersion 7"},
      {"{\"lockfileVersion\":2,\"packages\":[]}", "packages"},
      {"{\"lockfileVersion\":2,\"packages\":{\"node_modules/a\":5}}", "node_modules/a"},
      {"{\"lockfileVersion\":1,\"dependencies\":{\"a\":\"1.0\"}}", "dependencies[\"a\"]"},
  };
  for (const auto& c : cases) {
    Tree t;
    t.put("p/package-lock.json", c.lock);
    t.put("p/node_modules/ok/package.json", R"({"name":"ok","version":"1.0.0"})");
    Sbom s = t.catalog();
    expect_one_warning(s, "/p/package-lock.json", c.why);
    EXPECT_EQ(purls(s, type::kNpm), std::vector<std::string>{"pkg:npm/ok@1.0.0"}) << c.lock;
  }
  // Deeply nested JSON is refused by the parser's depth limit, not by the stack.
  Tree t;
  t.put("p/package-lock.json", std::string(100000, '[') + std::string(100000, ']'));
  expect_one_warning(t.catalog(), "/p/package-lock.json", "");
  // v1 trees nested beyond the bound.
  std::string deep = "{\"lockfileVersion\":1,\"dependencies\":";
  for (int i = 0; i < 60; ++i) deep += "{\"a\":{\"version\":\"1\",\"dependencies\":";
  deep += "{}";
  for (int i = 0; i < 60; ++i) deep += "}}";
  deep += "}";
  Tree t2;
  t2.put("p/package-lock.json", deep);
  Sbom s2 = t2.catalog();
  EXPECT_EQ(s2.warnings.size(), 1u);
}

constexpr const char* kPyYamlMetadata =
    "Metadata-Version: 2.1\n"
    "Name: PyYAML\n"
    "Version: 6.0\n"
    "License: MIT\n"
    "Classifier: License :: OSI Approved :: MIT License\n"
    "Description-Content-Type: text/markdown\n"
    "\n"
    "Name: not-a-header\n";

TEST(PythonCatalog, DistInfoEggInfoAndLoneEggInfo) {
  Tree t;
  std::string sp = "usr/lib/python3/dist-packages/";
  t.put(sp + "PyYAML-6.0.dist-info/METADATA", kPyYamlMetadata);
  t.put(sp + "PyYAML-6.0.dist-info/RECORD",
        "yaml/__init__.py,sha256=abc,123\n\"yaml/odd,name.py\",,\n../../../bin/tool,,\nPyYAML-6.0.dist-info/RECORD,,\n");
  t.put(sp + "PyYAML-6.0.dist-info/top_level.txt", "yaml\n_yaml\n");
  t.put(sp + "requests-2.28.1.egg-info/PKG-INFO",
        "Metadata-Version: 2.1\nName: requests\nVersion: 2.28.1\nLicense: Apache 2.0\n");
  t.put(sp + "typing_extensions-4.4.0.dist-info/METADATA",
        "Metadata-Version: 2.1\nName: typing_extensions\nVersion: 4.4.0\n"
        "Classifier: License :: OSI Approved :: Python Software Foundation License\n");
  t.put(sp + "Zope.Interface-5.egg-info",
        "Metadata-Version: 1.1\nName: Zope.Interface\nVersion: 5\nLicense-Expression: ZPL-2.1 or MIT\n"
        "License: This is a long license text\n        with continuation lines\n");
  t.put("usr/lib/python2.7/lib-dynload/Python-2.7.egg-info", "Metadata-Version: 1.0\nName: Python\nVersion: 2.7\n");
  Sbom s = t.catalog();
  EXPECT_EQ(purls(s, type::kPython),
            (std::vector<std::string>{"pkg:pypi/pyyaml@6.0", "pkg:pypi/requests@2.28.1",
                                      "pkg:pypi/typing-extensions@4.4.0", "pkg:pypi/zope.interface@5"}));
  const Package* y = find(s, type::kPython, "PyYAML");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y->version, "6.0");
  EXPECT_EQ(y->licenses, std::vector<std::string>{"MIT"});
  ASSERT_EQ(y->locations.size(), 3u);
  EXPECT_EQ(y->locations[0].path, "/" + sp + "PyYAML-6.0.dist-info/METADATA");
  EXPECT_EQ(y->files, (std::vector<std::string>{"/" + sp + "yaml/__init__.py", "/" + sp + "yaml/odd,name.py",
                                                "/usr/bin/tool", "/" + sp + "PyYAML-6.0.dist-info/RECORD"}));
  EXPECT_EQ(find(s, type::kPython, "requests")->licenses, std::vector<std::string>{"Apache-2.0"});
  EXPECT_EQ(find(s, type::kPython, "typing_extensions")->licenses, std::vector<std::string>{"PSF-2.0"});
  EXPECT_EQ(find(s, type::kPython, "Zope.Interface")->licenses, std::vector<std::string>{"ZPL-2.1 OR MIT"});
  EXPECT_TRUE(s.warnings.empty()) << s.warnings[0];
}

TEST(PythonCatalog, MalformedIsSkippedWithOneLine) {
  struct Case {
    const char* metadata;
    const char* why;
  } cases[] = {
      {"Name: x\nthis line has no colon\n", "line 2"},
      {" continuation first\n", "line 1"},
      {"Metadata-Version: 2.1\nName: x\n", "no Name or no Version"},
      {"", "no Name or no Version"},
      {":\n", "line 1"},
  };
  for (const auto& c : cases) {
    Tree t;
    t.put("site-packages/x-1.dist-info/METADATA", c.metadata);
    Sbom s = t.catalog();
    expect_one_warning(s, "/site-packages/x-1.dist-info/METADATA", c.why);
    EXPECT_TRUE(purls(s, type::kPython).empty());
  }
  // An unterminated quote in RECORD: the package stays, the RECORD is reported.
  Tree t;
  t.put("sp/x-1.dist-info/METADATA", "Name: x\nVersion: 1\n");
  t.put("sp/x-1.dist-info/RECORD", "\"x/unterminated,,\n");
  Sbom s = t.catalog();
  expect_one_warning(s, "/sp/x-1.dist-info/RECORD", "line 1");
  EXPECT_EQ(purls(s, type::kPython), std::vector<std::string>{"pkg:pypi/x@1"});
}

TEST(Ownership, DpkgFilesOwnLanguagePackages) {
  Tree t;
  t.put("var/lib/dpkg/status",
        "Package: python3-yaml\nStatus: install ok installed\nArchitecture: amd64\nVersion: 6.0-3+b2\nSource: pyyaml\n\n"
        "Package: node-semver\nStatus: install ok installed\nArchitecture: all\nVersion: 7.3.5+~7.3.8-2\n");
  t.put("var/lib/dpkg/info/python3-yaml.list",
        "/.\n/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info\n"
        "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA\n");
  t.put("var/lib/dpkg/info/node-semver.list", "/.\n/usr/share/nodejs/semver/package.json\n");
  t.put("usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA", kPyYamlMetadata);
  t.put("usr/share/nodejs/semver/package.json", R"({"name":"semver","version":"7.3.5"})");
  t.put("srv/app/node_modules/semver/package.json", R"({"name":"semver","version":"7.5.4"})");
  t.put("usr/local/lib/python3.11/dist-packages/pip-23.dist-info/METADATA", "Name: pip\nVersion: 23\n");
  Sbom s = t.catalog();
  const Package* deb = find(s, type::kDeb, "python3-yaml");
  const Package* yaml = find(s, type::kPython, "PyYAML");
  const Package* pip = find(s, type::kPython, "pip");
  const Package* node_semver = find(s, type::kDeb, "node-semver");
  ASSERT_TRUE(deb && yaml && pip && node_semver);
  EXPECT_EQ(yaml->owner_id, deb->id);
  EXPECT_EQ(pip->owner_id, "");
  int semvers = 0;
  for (const auto& p : s.packages) {
    if (p.type != type::kNpm || p.name != "semver") continue;
    ++semvers;
    // Debian's copy belongs to node-semver; the application's own copy to nobody.
    EXPECT_EQ(p.owner_id, p.version == "7.3.5" ? node_semver->id : "") << p.version;
  }
  EXPECT_EQ(semvers, 2);
}

TEST(Ownership, FirstOwnerWinsAndOsPackagesAreNeverOwned) {
  std::vector<Package> pk(4);
  pk[0].id = "a";
  pk[0].type = type::kDeb;
  pk[0].files = {"/x/METADATA", "/y"};
  pk[1].id = "b";
  pk[1].type = type::kApk;
  pk[1].files = {"/x/METADATA"};
  pk[1].locations = {{"/y", ""}};
  pk[2].id = "c";
  pk[2].type = type::kPython;
  pk[2].locations = {{"/z", ""}, {"/x/METADATA", ""}};
  pk[3].id = "d";
  pk[3].type = type::kNpm;
  pk[3].locations = {{"/q", ""}};
  assign_owners(pk);
  EXPECT_EQ(pk[0].owner_id, "");
  // Merged /usr: /lib/x as listed is /usr/lib/x on disk, and /usr/sbin/y is /sbin/y.
  std::vector<Package> merged(3);
  merged[0].id = "os";
  merged[0].type = type::kDeb;
  merged[0].files = {"/lib/python3/dist-packages/a.egg-info", "/usr/sbin/tool"};
  merged[1].type = type::kPython;
  merged[1].locations = {{"/usr/lib/python3/dist-packages/a.egg-info", ""}};
  merged[2].type = type::kGoModule;
  merged[2].locations = {{"/sbin/tool", ""}};
  assign_owners(merged);
  EXPECT_EQ(merged[1].owner_id, "os");
  EXPECT_EQ(merged[2].owner_id, "os");
  EXPECT_EQ(pk[1].owner_id, "");
  EXPECT_EQ(pk[2].owner_id, "a");
  EXPECT_EQ(pk[3].owner_id, "");
}

TEST(GemCatalog, InstalledSpecifications) {
  Tree t;
  t.put("usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec",
        "# -*- encoding: utf-8 -*-\n# stub: rake 13.0.6 ruby lib\n\nGem::Specification.new do |s|\n"
        "  s.name = \"rake\".freeze\n  s.version = \"13.0.6\"\n"
        "  s.licenses = [\"MIT\".freeze, 'Ruby'.freeze]\n  s.summary = \"name = 'x'\"\nend\n");
  t.put("usr/share/rubygems-integration/all/specifications/json-2.6.gemspec",
        "Gem::Specification.new do |spec|\n  spec.name = 'json'\n  spec.version = '2.6'\n  spec.license = 'Ruby'\nend\n");
  t.put("gems/specifications/broken.gemspec", "Gem::Specification.new do |s|\n  s.name = \"broken\n");
  Sbom s = t.catalog();
  EXPECT_EQ(purls(s, type::kGem), (std::vector<std::string>{"pkg:gem/json@2.6", "pkg:gem/rake@13.0.6"}));
  EXPECT_EQ(find(s, type::kGem, "rake")->licenses, (std::vector<std::string>{"MIT", "Ruby"}));
  expect_one_warning(s, "/gems/specifications/broken.gemspec", "no name or no version");
}

TEST(ComposerCatalog, InstalledJsonV1AndV2) {
  Tree t;
  t.put("v1/vendor/composer/installed.json",
        R"([{"name":"monolog/monolog","version":"1.27.1","license":["MIT"]},{"name":"psr/log","version":"1.1.4"}])");
  t.put("v2/vendor/composer/installed.json",
        R"({"packages":[{"name":"symfony/console","version":"v6.3.0","license":["MIT"]}],"dev":true})");
  t.put("bad/vendor/composer/installed.json", R"({"packages":[{"name":"a/b"}]})");
  Sbom s = t.catalog();
  EXPECT_EQ(purls(s, type::kPhpComposer),
            (std::vector<std::string>{"pkg:composer/monolog/monolog@1.27.1", "pkg:composer/psr/log@1.1.4",
                                      "pkg:composer/symfony/console@v6.3.0"}));
  EXPECT_EQ(find(s, type::kPhpComposer, "symfony/console")->licenses, std::vector<std::string>{"MIT"});
  expect_one_warning(s, "/bad/vendor/composer/installed.json", "packages[0]");
}

TEST(DotnetCatalog, DepsJson) {
  Tree t;
  t.put("app/app.deps.json", R"({"runtimeTarget":{"name":".NETCoreApp,Version=v8.0"},"libraries":{
      "app/1.0.0":{"type":"project","serviceable":false},
      "Newtonsoft.Json/13.0.3":{"type":"package","sha512":"sha512-x","path":"newtonsoft.json/13.0.3"},
      "Microsoft.NETCore.App.Runtime/8.0.0":{"type":"runtimepack"}}})");
  t.put("bad/bad.deps.json", R"({"libraries":{"NoVersion":{"type":"package"}}})");
  Sbom s = t.catalog();
  EXPECT_EQ(purls(s, type::kDotnet),
            (std::vector<std::string>{"pkg:nuget/Newtonsoft.Json@13.0.3", "pkg:nuget/app@1.0.0"}));
  expect_one_warning(s, "/bad/bad.deps.json", "NoVersion");
}

}  // namespace
}  // namespace vouch::sbom
