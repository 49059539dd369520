// Kyverno's JMESPath functions, with the inputs and outputs of Kyverno's own tests
// (pkg/engine/jmespath/*_test.go).
#include <gtest/gtest.h>

#include "vouch/base/json.h"
#include "vouch/policy/jmespath.h"

namespace vouch::policy::jmespath {
namespace {

bj::value parse(std::string_view text) {
  auto v = json::parse(text);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? *v : bj::value();
}

Result<bj::value> run(std::string_view expression, const bj::value& data = bj::value("")) {
  return search(expression, data, kyverno_functions());
}

// Evaluates and compares with the expected JSON value.
void expect(std::string_view expression, std::string_view want_json, const bj::value& data = bj::value("")) {
  auto got = run(expression, data);
  ASSERT_TRUE(got.ok()) << expression << ": " << got.error().message;
  bj::value want = parse(want_json);
  EXPECT_TRUE(values_equal(*got, want)) << expression << ": got " << json::serialize(*got) << ", want " << want_json;
}

void expect_string(std::string_view expression, std::string_view want, const bj::value& data = bj::value("")) {
  auto got = run(expression, data);
  ASSERT_TRUE(got.ok()) << expression << ": " << got.error().message;
  ASSERT_TRUE(got->is_string()) << expression << ": got " << json::serialize(*got);
  EXPECT_EQ(std::string_view(got->get_string()), want) << expression;
}

void expect_error(std::string_view expression, const bj::value& data = bj::value("")) {
  auto got = run(expression, data);
  EXPECT_FALSE(got.ok()) << expression << ": got " << json::serialize(*got);
}

TEST(KyvernoJmespath, Compare) {
  expect("compare('a', 'a')", "0");
  expect("compare('a', 'b')", "-1");
  expect("compare('b', 'a')", "1");
  expect_error("compare(`1`, 'b')");
  expect_error("compare('a', `1`)");
}

TEST(KyvernoJmespath, EqualFold) {
  expect("equal_fold('Go', 'go')", "true");
  expect("equal_fold('a', 'b')", "false");
  expect("equal_fold('1', 'b')", "false");
  expect_error("equal_fold(`1`, 'b')");
}

TEST(KyvernoJmespath, Replace) {
  expect_string("replace('Lorem ipsum dolor sit amet', 'ipsum', 'muspi', `-1`)", "Lorem muspi dolor sit amet");
  expect_string("replace('Lorem ipsum ipsum ipsum dolor sit amet', 'ipsum', 'muspi', `-1`)",
                "Lorem muspi muspi muspi dolor sit amet");
  expect_string("replace('Lorem ipsum ipsum ipsum dolor sit amet', 'ipsum', 'muspi', `1`)",
                "Lorem muspi ipsum ipsum dolor sit amet");
  expect_error("replace(`1`, 'ipsum', 'muspi', `1`)");
  expect_error("replace('Lorem', `1`, 'muspi', `1`)");
  expect_error("replace('Lorem', 'ipsum', `false`, `1`)");
  expect_error("replace('Lorem', 'ipsum', 'muspi', `true`)");
  expect_string("replace_all('Lorem ipsum dolor sit amet', 'ipsum', 'muspi')", "Lorem muspi dolor sit amet");
  expect_string("replace_all('Lorem ipsum ipsum ipsum dolor sit amet', 'ipsum', 'muspi')",
                "Lorem muspi muspi muspi dolor sit amet");
  expect_error("replace_all('Lorem', 'ipsum', `false`)");
}

TEST(KyvernoJmespath, Case) {
  expect_string("to_upper('abc')", "ABC");
  expect_string("to_upper('123')", "123");
  expect_string("to_upper('a#%&123Bc')", "A#%&123BC");
  expect_string("to_lower('ABC')", "abc");
  expect_string("to_lower('a#%&123Bc')", "a#%&123bc");
  expect_error("to_upper(`32`)");
  expect_error("to_lower(`32`)");
}

TEST(KyvernoJmespath, TrimAndSplit) {
  expect_string("trim('¡¡¡Hello, Gophers!!!', '!¡')", "Hello, Gophers");
  expect_string("trim_prefix('¡¡¡Hello, Gophers!!!', '¡¡¡Hello, ')", "Gophers!!!");
  expect_string("trim_prefix('¡¡¡Hello, Gophers!!!', '¡¡¡Hola, ')", "¡¡¡Hello, Gophers!!!");
  expect_error("trim_prefix(`1`, 'x')");
  expect_error("trim_prefix('x', `1`)");
  expect("split('Hello, Gophers', ', ')", R"(["Hello", "Gophers"])");
  expect("starts_with('Gophers', 'Go')", "true");
  expect("ends_with('Amigo', 'go')", "true");
}

TEST(KyvernoJmespath, Regex) {
  expect("regex_match('12.*', foo)", "true", parse(R"({"foo": "hgf'b1a2r'b12g"})"));
  expect("regex_match('12.*', abs(foo))", "true", parse(R"({"foo": -12.0})"));
  expect_error("regex_match('(', 'x')");
  bj::value resource = parse(R"({"metadata": {"name": "temp", "namespace": "ns_first"},
      "spec": {"namespace": "ns_first", "name": "temp_other", "field": "Hello world, helworldlo"}})");
  expect_string("regex_replace_all('([Hh]e|G)l', spec.field, '${2}G')", "Glo world, Gworldlo", resource);
  expect_string("regex_replace_all_literal('[Hh]el?', spec.field, 'G')", "Glo world, Gworldlo", resource);
  // Go's template expansion and empty-match rules.
  expect_string("regex_replace_all('a(x*)b', '-ab-axxb-', '${1}W')", "-W-xxW-");
  expect_string("regex_replace_all('a(x*)b', '-ab-axxb-', '$1W')", "---");
  expect_string("regex_replace_all('x*', 'abc', '-')", "-a-b-c-");
  expect_string("regex_replace_all_literal('a(x*)b', '-ab-axxb-', '$1')", "-$1-$1-");
  expect_string("regex_replace_all('(?P<word>[a-z]+)', 'hi', '<$word>')", "<hi>");
  expect_string("regex_replace_all('1', `10`, `2`)", "20");
}

TEST(KyvernoJmespath, PatternMatch) {
  expect("pattern_match('prefix-*', foo)", "true", parse(R"({"foo": "prefix-foo"})"));
  expect("pattern_match('12*', abs(foo))", "true", parse(R"({"foo": -12.0})"));
  expect("pattern_match('*', 's3:GetObject')", "true");
  expect("pattern_match('', 's3:GetObject')", "false");
  expect("pattern_match('', '')", "true");
  expect("pattern_match('my-bucket/In*/Ka*/Ban', 'my-bucket/India/State1/State2/Karnataka/Area1/Area2/Area3/Ban')",
         "true");
  expect("pattern_match('my-bucket/In*/Ka*/Ban', 'my-bucket/India/Karnataka/Bangalore')", "false");
  expect("pattern_match('my-?-bucket/abc*', 'my--bucket/abc')", "false");
  expect("pattern_match('my-?-bucket/abc*', 'my-1-bucket/abc')", "true");
  expect("pattern_match('my-bucket/abc?" "?" "?" "?', 'my-bucket/abcde')", "false");
  expect("pattern_match('my-bucket/mnop*?', 'my-bucket/mnop')", "false");
  expect("pattern_match('my-bucket/mnop*?and?', 'my-bucket/mnopqanda')", "true");
  expect_error("pattern_match(`123`, 'foo')");
  expect_error("pattern_match('foo', `[]`)");
}

TEST(KyvernoJmespath, LabelMatch) {
  bj::value resource = parse(R"({"metadata": {"labels": {"app": "test-app", "controller-name": "test-controller"}}})");
  expect(R"(label_match(`{ "app": "test-app" }`, metadata.labels))", "true", resource);
  expect(R"(label_match(`{ "app": "test-app", "controller-name": "test-controller" }`, metadata.labels))", "true",
         resource);
  expect(R"(label_match(`{ "app": "test-app2" }`, metadata.labels))", "false", resource);
  expect(R"(label_match(`{ "app.kubernetes.io/name": "test-app" }`, metadata.labels))", "false", resource);
  bj::value nested = parse(R"({"metadata": {"labels": {"app": "test-app", "annotations": {"test": "test"},
      "ownerReferences": [{"name": "test"}]}}})");
  expect(R"(label_match(`{ "app": "test-app", "annotations": { "test": "test" } }`, metadata.labels))", "true", nested);
}

TEST(KyvernoJmespath, ToBoolean) {
  expect("to_boolean('true')", "true");
  expect("to_boolean('TRue')", "true");
  expect("to_boolean('FaLse')", "false");
  expect("to_boolean('false')", "false");
  expect_error("to_boolean('FaLsee')");
  expect_error("to_boolean('foo')");
  expect_error("to_boolean(`1`)");
  expect_error("to_boolean(`null`)");
}

TEST(KyvernoJmespath, AddSubtract) {
  expect("add(`12`, `13`)", "25");
  expect_error("add('12', '13s')");
  expect_error("add(`12`, '13Ki')");
  expect_error("add(`12`, '13')");
  expect_string("add('12Ki', '13Ki')", "25Ki");
  expect_string("add('12Ki', '13')", "12301");
  expect_error("add('12Ki', '13s')");
  expect_error("add('12Ki', `13`)");
  expect_string("add('12s', '13s')", "25s");
  expect_error("add('12s', `13`)");
  expect_error("add('12s', '13Ki')");
  expect_error("add('12s', '13')");
  expect("subtract(`12`, `13`)", "-1");
  expect_string("subtract('12Ki', '13Ki')", "-1Ki");
  expect_string("subtract('12Ki', '13')", "12275");
  expect_string("subtract('12s', '13s')", "-1s");
  expect_error("subtract('12s', `13`)");
  expect_string("add('1h30m', '45m0s')", "2h15m0s");
  expect_error("add('1h30m', '45m')");  // as in Kyverno: "45m" is a quantity (45 milli), not a duration
  expect_string("add('1.5', '500m')", "2");
  expect_string("add('100m', '50m')", "150m");
  expect_string("add('1Gi', '512Mi')", "1536Mi");
}

TEST(KyvernoJmespath, Sum) {
  expect_error("sum([])");
  expect("sum([`12`])", "12");
  expect("sum([`12`, `13`, `1`, `4`])", "30");
  expect_error("sum(['12', '13s'])");
  expect_error("sum([`12`, '13Ki'])");
  expect_string("sum(['12Ki'])", "12Ki");
  expect_string("sum(['12Ki', '13Ki', '1Ki', '4Ki'])", "30Ki");
  expect_string("sum(['12Ki', '13'])", "12301");
  expect_error("sum(['12Ki', '13s'])");
  expect_string("sum(['12s', '13s', '1s', '4s'])", "30s");
  expect_error("sum(['12s', '13Ki'])");
}

TEST(KyvernoJmespath, Multiply) {
  expect_string("multiply('12Ki', `2`)", "24Ki");
  expect_error("multiply('12Ki', '12Ki')");
  expect_error("multiply('12Ki', '12')");
  expect_error("multiply('12Ki', '12s')");
  expect_string("multiply('12s', `2`)", "24s");
  expect_error("multiply('12s', '12Ki')");
  expect_error("multiply('12s', '12s')");
  expect("multiply(`2.5`, `2.5`)", "6.25");
  expect_string("multiply(`2.5`, '12Ki')", "30Ki");
  expect_string("multiply(`2.5`, '12')", "30");
  expect_string("multiply(`2.5`, '40s')", "1m40s");
}

TEST(KyvernoJmespath, Divide) {
  expect("divide('256M', '256M')", "1");
  expect("divide('512M', '256M')", "2");
  expect("divide('8', '3')", "2.6666666666666665");
  expect("divide('128M', '256M')", "0.5");
  expect_string("divide('12Ki', `3`)", "4Ki");
  expect("divide('12Ki', '2Ki')", "6");
  expect("divide('12Ki', '200')", "61.44");
  expect_error("divide('12Ki', '2s')");
  expect_string("divide('12s', `3`)", "4s");
  expect("divide('12s', '5s')", "2.4");
  expect_error("divide('12s', '4Ki')");
  expect("divide(`14`, `3`)", "4.666666666666667");
  expect_error("divide(`14`, '5s')");
  expect_error("divide(`14`, '5Ki')");
  for (const char* zero : {"divide(`14`, `0`)", "divide('4Ki', `0`)", "divide('4Ki', '0Ki')", "divide('4', `0`)",
                           "divide('4', '0')", "divide('4s', `0`)", "divide('4s', '0s')"}) {
    expect_error(zero);
  }
}

TEST(KyvernoJmespath, Modulo) {
  expect_error("modulo('12', '13s')");
  expect_error("modulo('12Ki', `13`)");
  expect_string("modulo('12Ki', '5Ki')", "2Ki");
  expect_string("modulo('13s', '2s')", "1s");
  expect_error("modulo('13s', `2`)");
  expect_error("modulo(`13`, '12')");
  expect("modulo(`13`, `5`)", "3");
  for (const char* bad : {"modulo(`14`, `0`)", "modulo('4Ki', `0`)", "modulo('4Ki', '0Ki')", "modulo('4', '0')",
                          "modulo('4s', '0s')", "modulo('4', '1.5')", "modulo('4.5', '1')", "modulo(`14`, `1.5`)",
                          "modulo(`14.5`, `2`)"}) {
    expect_error(bad);
  }
}

TEST(KyvernoJmespath, Round) {
  expect_error("round(`23`, '12Ki')");
  expect_error("round(`21`, '5s')");
  expect("round(`9.414675`, `2`)", "9.41");
  expect("round(`14.123`, `6`)", "14.123");
  expect_error("round(`14`, `1.5`)");
  expect_error("round(`14`, `-2`)");
}

TEST(KyvernoJmespath, Base64) {
  expect_string("base64_decode('SGVsbG8sIHdvcmxkIQ==')", "Hello, world!");
  expect_string("base64_encode('Hello, world!')", "SGVsbG8sIHdvcmxkIQ==");
  bj::value secret = parse(R"({"apiVersion": "v1", "kind": "Secret", "data": {"example1": "SGVsbG8sIHdvcmxkIQ==",
      "example2": "Rm9vQmFy"}})");
  expect_string("base64_decode(data.example1)", "Hello, world!", secret);
  expect_error("base64_decode(`123`)");
  expect_error("base64_encode(`123`)");
  expect_error("base64_decode('not base64!')");
}

TEST(KyvernoJmespath, PathCanonicalize) {
  expect_string("path_canonicalize('///')", "/");
  expect_string("path_canonicalize('///var/run/containerd/containerd.sock')", "/var/run/containerd/containerd.sock");
  expect_string("path_canonicalize('/var/run///containerd/containerd.sock')", "/var/run/containerd/containerd.sock");
  expect_string("path_canonicalize('/var/run///containerd////')", "/var/run/containerd");
  expect_string("path_canonicalize('/run///')", "/run");
  expect_string("path_canonicalize('/run/../etc')", "/etc");
  expect_string("path_canonicalize('///etc*')", "/etc*");
  expect_string("path_canonicalize('/../../')", "/");
  expect_string("path_canonicalize('a/../../b')", "../b");
}

TEST(KyvernoJmespath, Truncate) {
  expect_string("truncate('Lorem ipsum dolor sit amet', `5`)", "Lorem");
  expect_string("truncate('Lorem ipsum ipsum ipsum dolor sit amet', `11`)", "Lorem ipsum");
  expect_string("truncate('Lorem ipsum ipsum ipsum dolor sit amet', `40`)", "Lorem ipsum ipsum ipsum dolor sit amet");
  expect_string("truncate('Lorem ipsum', `2.6`)", "Lo");
  expect_string("truncate('Lorem ipsum', `0`)", "");
  expect_string("truncate('Lorem ipsum', `-1`)", "");
  expect_string("truncate('¡¡¡Hello', `2`)", "¡¡");
}

TEST(KyvernoJmespath, SemverCompare) {
  expect("semver_compare('4.1.3', '>=4.1.x')", "true");
  expect("semver_compare('4.1.3', '!4.x.x')", "false");
  expect("semver_compare('1.8.6', '>1.0.0 <2.0.0')", "true");
  expect("semver_compare('2.1.5', '<2.0.0 || >=3.0.0')", "false");
  expect("semver_compare('3.1.5', '<2.0.0 || >=3.0.0')", "true");
  expect("semver_compare('1.2.3-beta.1', '<1.2.3')", "true");
  expect("semver_compare('1.2.3', '>= 1.2.0')", "true");
  expect_error("semver_compare('1.2.3', '||')");
  expect_error("semver_compare('1.2.3', '>abc')");
}

TEST(KyvernoJmespath, ParseJson) {
  for (const char* text : {R"({"a":"b"})", "true", R"([1,2,3,{"a":"b"}])", "null", "[]", "{}", "0", "1.2",
                           R"([1.2,true,{"a":{"a":"b"}}])"}) {
    expect_string(fmt::format("to_string(parse_json('{}'))", text), text);
  }
  expect(R"(parse_json('{"a": "b"}').a)", R"("b")");
  expect(R"(parse_json('{"a": [1, 2, 3, 4]}').a[0])", "1");
  expect(R"(parse_json('[1, 2, {"a": {"b": {"c": [1, 2]}}}]')[2].a.b.c[1])", "2");
  expect_error("parse_json('{')");
}

TEST(KyvernoJmespath, ParseYaml) {
  expect("parse_yaml('a: b')", R"({"a": "b"})");
  expect("parse_yaml('\n- 1\n- 2\n- 3\n- a: b')", R"([1, 2, 3, {"a": "b"}])");
  expect("parse_yaml('\nspec:\n  test: 1\n  test2:\n    - 2\n    - 3\n')", R"({"spec": {"test": 1, "test2": [2, 3]}})");
  expect("parse_yaml('\nbar: >\n  this is not a normal string it\n  spans more than\n  one line\n  see?')",
         R"({"bar": "this is not a normal string it spans more than one line see?"})");
  expect("parse_yaml('\n---\nfoo: ~\nbar: null\n')", R"({"bar": null, "foo": null})");
  expect("parse_yaml('a: yes\nb: \"yes\"\nc: 0x10\nd: 1.5\ne: 1_000\n3: x')",
         R"({"a": true, "b": "yes", "c": 16, "d": 1.5, "e": 1000, "3": "x"})");
  expect_error("parse_yaml('a: [')");
  expect_error("parse_yaml('" + std::string(100, '[') + "')");
}

TEST(KyvernoJmespath, Lookup) {
  struct Case {
    const char* collection;
    const char* key;
    const char* want;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"{}", R"("key1")", "null"},
           {R"({"key1": "value1"})", R"("key2")", "null"},
           {R"({"key1": "value1"})", R"("key1")", R"("value1")"},
           {R"({"": "value1"})", R"("")", R"("value1")"},
           {R"({"k": 123})", R"("k")", "123"},
           {R"({"k": 12.34})", R"("k")", "12.34"},
           {R"({"k": false})", R"("k")", "false"},
           {R"({"k": null})", R"("k")", "null"},
           {R"({"k": [7, "x", true]})", R"("k")", R"([7, "x", true])"},
           {R"({"k": {"key1":true}})", R"("k")", R"({"key1":true})"},
           {"[]", "0", "null"},
           {R"(["item0"])", "-1", "null"},
           {R"(["item0"])", "1", "null"},
           {R"(["item0"])", "0", R"("item0")"},
           {R"(["item0", "item1", "item2", "item3"])", "2", R"("item2")"},
           {R"(["item0", "item1"])", "0.99999999999999999999999999999999999999999999", R"("item1")"},
           {R"([[7, "x", true]])", "0", R"([7, "x", true])"},
       }) {
    expect(fmt::format("lookup(`{}`, `{}`)", c.collection, c.key), c.want);
  }
  auto err = run("lookup(`{}`, `123`)");
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().message.find("argument #2 is not of type String"), std::string::npos);
  err = run(R"(lookup(`[]`, `"abc"`))");
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().message.find("argument #2 is not of type Number"), std::string::npos);
  err = run("lookup(`[]`, `1.5`)");
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().message.find("JMESPath function 'lookup': argument #2: expected an integer number but got: 1.5"),
            std::string::npos)
      << err.error().message;
}

TEST(KyvernoJmespath, Items) {
  expect(R"(items(`{ "key1": "value1" }`, `"key"`, `"value"`))", R"([{ "key": "key1", "value": "value1" }])");
  expect(R"(items(`{ "key2": "value2", "key1": "value1" }`, `"myKey"`, `"myValue"`))",
         R"([{ "myKey": "key1", "myValue": "value1" }, { "myKey": "key2", "myValue": "value2" }])");
  expect(R"(items(`["A", "B", "C"]`, `"myKey"`, `"myValue"`))",
         R"([{ "myKey": 0, "myValue": "A" }, { "myKey": 1, "myValue": "B" }, { "myKey": 2, "myValue": "C" }])");
}

TEST(KyvernoJmespath, ObjectFromLists) {
  expect(R"(object_from_lists(`["key1", "key2"]`, `["1", "2"]`))", R"({"key1": "1", "key2": "2"})");
  expect(R"(object_from_lists(`["key1", "key2"]`, `[1, "2"]`))", R"({"key1": 1, "key2": "2"})");
  expect(R"(object_from_lists(`["key1", "key2"]`, `[1]`))", R"({"key1": 1, "key2": null})");
  expect_error(R"(object_from_lists(`[null]`, `[1]`))");
}

TEST(KyvernoJmespath, ImageNormalize) {
  expect_string("image_normalize('nginx')", "docker.io/nginx:latest");
  expect_string("image_normalize('docker.io/nginx')", "docker.io/nginx:latest");
  expect_string("image_normalize('docker.io/library/nginx')", "docker.io/library/nginx:latest");
  expect_string("image_normalize('ghcr.io/library/nginx')", "ghcr.io/library/nginx:latest");
  expect_string("image_normalize('ghcr.io/nginx')", "ghcr.io/nginx:latest");
  expect_string("image_normalize('ghcr.io/nginx:latest')", "ghcr.io/nginx:latest");
  expect_string("image_normalize('ghcr.io/nginx:1.2')", "ghcr.io/nginx:1.2");
  expect_string("image_normalize('localhost:5000/app@sha256:" + std::string(64, 'a') + "')",
                "localhost:5000/app@sha256:" + std::string(64, 'a'));
  auto err = run("image_normalize('')");
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().message.find("JMESPath function 'image_normalize': bad image: docker.io/, defaultRegistry: "
                                     "docker.io, enableDefaultRegistryMutation: true: invalid reference format"),
            std::string::npos)
      << err.error().message;
  expect_error("image_normalize('nginx@sha256:abc')");
  expect_error("image_normalize('Docker.io/Nginx')");
}

TEST(KyvernoJmespath, IsExternalUrl) {
  // Only addresses that need no DNS (and "localhost", which /etc/hosts resolves).
  for (const char* internal : {"http://127.0.0.1", "http://172.16.1.1", "http://10.1.1.1", "http://192.168.0.1",
                               "http://[fd12:3456:789a:1::1]", "http://[fdb7:d8fd:c4e4:5561::1]", "http://[::1]",
                               "http://www.google.com@192.168.1.3", "https://10.0.0.1:8443/path"}) {
    expect(fmt::format("is_external_url('{}')", internal), "false");
  }
  for (const char* external : {"http://8.8.8.8", "http://245.48.83.160", "http://[2001:db8::ff00:42:8329]"}) {
    expect(fmt::format("is_external_url('{}')", external), "true");
  }
  expect("is_external_url('http://localhost')", "false");
  expect_error("is_external_url(`123`)");
}

TEST(KyvernoJmespath, Hashes) {
  expect_string("sha256('alertmanager-kube-prometheus-stack-alertmanager')",
                "75c07bb807f2d80a85d34880b8af0c5f29f7c27577076ed5d0e4b427dee7dbcc");
  expect_string("sha1('Alice & Bob')", "e3ec484930685a61b0f824cd684a68699d2b98c1");
  expect_string("md5('Alice & Bob')", "def42e1abd2462df1f9f0a4b3d488221");
  expect_error("sha256(`123`)");
  expect_error("sha1(`123`)");
  expect_error("md5(`123`)");
}

TEST(KyvernoJmespath, X509DecodeRejectsBadInput) {
  auto r = run("x509_decode('-----BEGIN CERTIFICATE-----')");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("x509_decode"), std::string::npos);
}

TEST(KyvernoJmespath, Time) {
  expect_string("time_since('', '2021-01-02T15:04:05-07:00', '2021-01-10T03:14:05-07:00')", "180h10m0s");
  expect_string("time_since('Mon Jan _2 15:04:05 MST 2006', 'Mon Jan 02 15:04:05 MST 2021', "
                "'Mon Jan 10 03:14:16 MST 2021')",
                "180h10m11s");
  expect_string("time_to_cron('2023-02-02T15:04:05Z')", "4 15 2 2 4");
  expect_string("time_to_cron(time_utc('2023-02-02T15:04:05-07:00'))", "4 22 2 2 4");
  expect_string("time_add('2021-01-02T15:04:05-07:00', '3h')", "2021-01-02T18:04:05-07:00");
  expect_string("time_add(time_parse('Mon Jan 02 15:04:05 -0700 2006', 'Sat Jan 02 15:04:05 -0700 2021'), '5h30m40s')",
                "2021-01-02T20:34:45-07:00");
  expect_string("time_parse('2006-01-02T15:04:05Z07:00', '2021-01-02T15:04:05-07:00')", "2021-01-02T15:04:05-07:00");
  expect_string("time_parse('Mon Jan 02 15:04:05 -0700 2006', 'Sat Jan 02 15:04:05 -0700 2021')",
                "2021-01-02T15:04:05-07:00");
  expect_string("time_parse('1702691171', '1702691171')", "2023-12-16T01:46:11Z");
  expect_string("time_parse('02 Jan 06 15:04 MST', '05 Mar 24 09:30 UTC')", "2024-03-05T09:30:00Z");
  expect_string("time_parse('January 2, 2006 3:04pm', 'March 5, 2024 9:30pm')", "2024-03-05T21:30:00Z");
  expect_string("time_utc('2023-02-02T15:04:05Z')", "2023-02-02T15:04:05Z");
  expect_string("time_utc('2023-02-02T15:04:05-07:00')", "2023-02-02T22:04:05Z");
  expect_string("time_diff('2021-01-02T15:04:05-07:00', '2021-01-10T03:14:05-07:00')", "180h10m0s");
  expect_string("time_diff('2021-01-02T15:04:05.5Z', '2021-01-02T15:04:05Z')", "-500ms");
  expect("time_before('2021-01-02T15:04:05-07:00', '2021-01-02T16:04:05-07:00')", "true");
  expect("time_before('2021-01-02T15:04:05-07:00', '2021-01-02T15:04:05-07:00')", "false");
  expect("time_before('2021-01-02T16:04:05-07:00', '2021-01-02T15:04:05-07:00')", "false");
  expect("time_after('2021-01-02T16:04:05-07:00', '2021-01-02T15:04:05-07:00')", "true");
  expect("time_after('2021-01-02T15:04:05-07:00', '2021-01-02T15:04:05-07:00')", "false");
  expect("time_between('2021-01-02T17:04:05-07:00', '2021-01-02T15:04:05-07:00', '2021-01-02T18:04:05-07:00')", "true");
  expect("time_between('2021-01-02T15:04:05-07:00', '2021-01-02T15:04:05-07:00', '2021-01-02T18:04:05-07:00')",
         "false");
  expect("time_between('2021-01-02T18:04:05-07:00', '2021-01-02T15:04:05-07:00', '2021-01-02T18:04:05-07:00')",
         "false");
  expect_error("time_between('2021-01-02T15:04:05-07:00', '2021-01-02T18:04:05-07:00')");
  expect_error("time_before('2021-01-02T15:04:05-07:00', '')");
  expect_error("time_after('', '2021-01-02T15:04:05-07:00')");
  expect_string("time_truncate('2023-02-02T15:04:05Z', '1h')", "2023-02-02T15:00:00Z");
  expect_string("time_truncate('2023-02-02T15:04:05-07:00', '24h')", "2023-02-01T17:00:00-07:00");  // Go truncates in UTC
  expect_error("time_truncate('2023-02-02T15:04:05Z', 'x')");
  expect_error("time_add('2021-02-30T15:04:05Z', '1h')");
  auto now = run("time_now_utc()");
  ASSERT_TRUE(now.ok());
  EXPECT_TRUE(std::string_view(now->get_string()).ends_with("Z"));
  EXPECT_TRUE(run("time_before(time_now(), time_add(time_now_utc(), '1m'))")->as_bool());
}

TEST(KyvernoJmespath, DurationFormatting) {
  expect_string("add('0s', '0s')", "0s");
  expect_string("add('1ns', '1ns')", "2ns");
  expect_string("add('1us', '500ns')", "1.5\xc2\xb5s");
  expect_string("add('1ms', '1ms')", "2ms");
  expect_string("add('1.5h', '0s')", "1h30m0s");
  expect_string("subtract('1s', '1h')", "-59m59s");
  expect_error("add('1d', '1h')");
}

TEST(KyvernoJmespath, StandardFunctionsStillThere) {
  expect("length('abc')", "3");
  expect("sort_by(@, &a)[0].a", "1", parse(R"([{"a": 2}, {"a": 1}])"));
  // Kyverno's sum (jpSum) replaces the standard one: quantities and durations too, an empty
  // array is an error, and a single element is returned as it is, even a string that is no
  // quantity; with more, such a string is an error.
  expect_error("sum(`[]`)");
  expect("sum(`[1, 2.5]`)", "3.5");
  expect("sum(['1Gi', '512Mi'])", "\"1536Mi\"");
  expect_string("sum(['a'])", "a");
  expect_error("sum(['a', 'b'])");
}

TEST(KyvernoJmespath, RegistryCanBeExtended) {
  FunctionRegistry registry = *kyverno_functions();
  registry.add(Function{"double", {{kNumber}}, [](std::span<const Argument> a, const CallContext&) -> Result<bj::value> {
                          return make_number(to_double(*a[0]) * 2);
                        }});
  auto shared = std::make_shared<const FunctionRegistry>(std::move(registry));
  auto r = search("double(`21`)", bj::value(), shared);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(values_equal(*r, bj::value(42)));
  EXPECT_FALSE(search("double(`21`)", bj::value()).ok());  // not in the standard registry
}

}  // namespace
}  // namespace vouch::policy::jmespath
