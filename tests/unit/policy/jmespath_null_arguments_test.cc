// What every function of Kyverno's JMESPath gives for a null argument, typically a field the
// resource does not have: `length(request.object.metadata.labels.foo)`.
//
// Where Kyverno decides it:
// - kyverno/go-jmespath's interpreter passes a field it cannot find to a function as null (it
//   drops the "Unknown key" error for function arguments), then ArgSpec.typeCheck checks every
//   argument, the variadic ones included, before the function runs. null is not a number, a
//   string, an array, an object, an array[number] or an array[string]; only `any` accepts it.
//   The error reads "Invalid type for: <nil>, expected: ...": an invalid-type error here.
// - Kyverno's own functions (kyverno/kyverno pkg/engine/jmespath/functions.go, GetFunctions)
//   declare their arguments with the same types (jpString, jpNumber, jpObject, jpArray...), so
//   the same check refuses null before their handlers run. add, subtract, multiply, divide and
//   modulo take jpAny and refuse null themselves (arithmetic.go, parseArithemticOperand:
//   "invalid operand"); sum is jpSum in functions.go.
// - The functions that take `any` (not_null, to_array, to_number, to_string, type, contains's
//   second argument) give a value.
#include <gtest/gtest.h>

#include <optional>

#include "vouch/base/json.h"
#include "vouch/policy/jmespath.h"

namespace vouch::policy::jmespath {
namespace {

struct NullCase {
  const char* expression;
  const char* result;                // the JSON Kyverno gives, or nullptr for an error
  std::optional<ErrorKind> error{};  // the kind of that error
};

constexpr auto kType = ErrorKind::kInvalidType;
constexpr auto kValue = ErrorKind::kInvalidValue;
constexpr auto kArity = ErrorKind::kInvalidArity;

// `missing` is not in the document: every argument spelled so is null.
const NullCase kCases[] = {
    // The specification's functions, as the fork declares them (functions.go, newFunctionCaller).
    {"abs(missing)", nullptr, kType},
    {"avg(missing)", nullptr, kType},
    {"avg(`[null]`)", nullptr, kType},  // array[number]: every element must be a number
    {"avg(`[]`)", "null"},
    {"ceil(missing)", nullptr, kType},
    {"floor(missing)", nullptr, kType},
    {"contains(missing, 'x')", nullptr, kType},
    {"contains('abc', missing)", "false"},       // any: a string only contains strings
    {"contains(`[null]`, missing)", "true"},     // any: null == null
    {"contains(`[1]`, missing)", "false"},
    {"ends_with(missing, 'a')", nullptr, kType},
    {"ends_with('a', missing)", nullptr, kType},
    {"starts_with(missing, 'a')", nullptr, kType},
    {"starts_with('a', missing)", nullptr, kType},
    {"join(missing, `[\"a\"]`)", nullptr, kType},
    {"join(',', missing)", nullptr, kType},
    {"join(',', `[null]`)", nullptr, kType},  // array[string]
    {"keys(missing)", nullptr, kType},
    {"values(missing)", nullptr, kType},
    {"length(missing)", nullptr, kType},
    {"length(request.object.metadata.labels.foo)", nullptr, kType},
    {"map(&a, missing)", nullptr, kType},
    {"map(&a, `[null]`)", "[null]"},
    {"max(missing)", nullptr, kType},
    {"max(`[null]`)", nullptr, kType},
    {"max(`[]`)", "null"},
    {"min(missing)", nullptr, kType},
    {"min(`[]`)", "null"},
    {"max_by(missing, &a)", nullptr, kType},
    {"min_by(missing, &a)", nullptr, kType},
    {"sort_by(missing, &a)", nullptr, kType},
    {"merge(missing, `{}`)", nullptr, kType},  // variadic object: each argument is checked
    {"merge(`{}`, missing)", nullptr, kType},
    {"merge(missing)", nullptr, kType},
    {"not_null(missing, 'x')", "\"x\""},
    {"not_null(missing)", "null"},
    {"not_null()", nullptr, kArity},
    {"reverse(missing)", nullptr, kType},
    {"sort(missing)", nullptr, kType},
    {"sort(`[null]`)", nullptr, kType},
    {"to_array(missing)", "[null]"},
    {"to_number(missing)", "null"},
    {"to_string(missing)", "\"null\""},  // json.Marshal(nil)
    {"type(missing)", "\"null\""},
    // Kyverno's functions (pkg/engine/jmespath/functions.go, GetFunctions).
    {"compare(missing, 'a')", nullptr, kType},
    {"compare('a', missing)", nullptr, kType},
    {"equal_fold(missing, 'a')", nullptr, kType},
    {"equal_fold('a', missing)", nullptr, kType},
    {"replace(missing, 'a', 'b', `1`)", nullptr, kType},
    {"replace('a', missing, 'b', `1`)", nullptr, kType},
    {"replace('a', 'a', missing, `1`)", nullptr, kType},
    {"replace('a', 'a', 'b', missing)", nullptr, kType},
    {"replace_all(missing, 'a', 'b')", nullptr, kType},
    {"replace_all('a', 'a', missing)", nullptr, kType},
    {"to_upper(missing)", nullptr, kType},
    {"to_lower(missing)", nullptr, kType},
    {"trim(missing, 'a')", nullptr, kType},
    {"trim('a', missing)", nullptr, kType},
    {"trim_prefix(missing, 'a')", nullptr, kType},
    {"trim_prefix('a', missing)", nullptr, kType},
    {"split(missing, ',')", nullptr, kType},
    {"split('a,b', missing)", nullptr, kType},
    {"regex_replace_all(missing, 'a', 'b')", nullptr, kType},
    {"regex_replace_all('a', missing, 'b')", nullptr, kType},
    {"regex_replace_all('a', 'a', missing)", nullptr, kType},
    {"regex_replace_all_literal(missing, 'a', 'b')", nullptr, kType},
    {"regex_replace_all_literal('a', 'a', missing)", nullptr, kType},
    {"regex_match(missing, 'a')", nullptr, kType},
    {"regex_match('a', missing)", nullptr, kType},
    {"pattern_match(missing, 'a')", nullptr, kType},
    {"pattern_match('a', missing)", nullptr, kType},
    {"label_match(missing, `{}`)", nullptr, kType},
    {"label_match(`{}`, missing)", nullptr, kType},
    {"to_boolean(missing)", nullptr, kType},
    {"round(missing, `1`)", nullptr, kType},
    {"round(`1.5`, missing)", nullptr, kType},
    {"base64_decode(missing)", nullptr, kType},
    {"base64_encode(missing)", nullptr, kType},
    {"path_canonicalize(missing)", nullptr, kType},
    {"truncate(missing, `3`)", nullptr, kType},
    {"truncate('abc', missing)", nullptr, kType},
    {"semver_compare(missing, '>1.0.0')", nullptr, kType},
    {"semver_compare('1.0.0', missing)", nullptr, kType},
    {"parse_json(missing)", nullptr, kType},
    {"parse_yaml(missing)", nullptr, kType},
    {"lookup(missing, 'k')", nullptr, kType},
    {"lookup(`{}`, missing)", nullptr, kType},
    {"items(missing, 'k', 'v')", nullptr, kType},
    {"items(`{}`, missing, 'v')", nullptr, kType},
    {"items(`{}`, 'k', missing)", nullptr, kType},
    {"object_from_lists(missing, `[]`)", nullptr, kType},
    {"object_from_lists(`[]`, missing)", nullptr, kType},
    {"x509_decode(missing)", nullptr, kType},
    {"image_normalize(missing)", nullptr, kType},
    {"is_external_url(missing)", nullptr, kType},
    {"sha256(missing)", nullptr, kType},
    {"sha1(missing)", nullptr, kType},
    {"md5(missing)", nullptr, kType},
    // Kyverno's time functions (time.go; declared in GetFunctions with jpString arguments).
    {"time_since(missing, '2021-01-01T00:00:00Z', '')", nullptr, kType},
    {"time_since('', missing, '')", nullptr, kType},
    {"time_since('', '2021-01-01T00:00:00Z', missing)", nullptr, kType},
    {"time_to_cron(missing)", nullptr, kType},
    {"time_add(missing, '1h')", nullptr, kType},
    {"time_add('2021-01-01T00:00:00Z', missing)", nullptr, kType},
    {"time_parse(missing, 'x')", nullptr, kType},
    {"time_parse('x', missing)", nullptr, kType},
    {"time_utc(missing)", nullptr, kType},
    {"time_diff(missing, '2021-01-01T00:00:00Z')", nullptr, kType},
    {"time_diff('2021-01-01T00:00:00Z', missing)", nullptr, kType},
    {"time_before(missing, '2021-01-01T00:00:00Z')", nullptr, kType},
    {"time_after(missing, '2021-01-01T00:00:00Z')", nullptr, kType},
    {"time_after('2021-01-01T00:00:00Z', missing)", nullptr, kType},
    {"time_between(missing, 'a', 'b')", nullptr, kType},
    {"time_between('a', 'b', missing)", nullptr, kType},
    {"time_truncate(missing, '1h')", nullptr, kType},
    {"time_truncate('2021-01-01T00:00:00Z', missing)", nullptr, kType},
    // Arithmetic takes jpAny and refuses null itself: "JMESPath function 'add': invalid operand".
    {"add(missing, `1`)", nullptr, kValue},
    {"add(`1`, missing)", nullptr, kValue},
    {"subtract(missing, `1`)", nullptr, kValue},
    {"subtract(`1`, missing)", nullptr, kValue},
    {"multiply(missing, `1`)", nullptr, kValue},
    {"multiply(`1`, missing)", nullptr, kValue},
    {"divide(missing, `1`)", nullptr, kValue},
    {"divide(`1`, missing)", nullptr, kValue},
    {"modulo(missing, `1`)", nullptr, kValue},
    {"modulo(`1`, missing)", nullptr, kValue},
    // jpSum: jpArray, so null is refused by the fork; an empty array is jpSum's own error; a
    // single element is returned as it is, null included; more are added with add's rules.
    {"sum(missing)", nullptr, kType},
    {"sum(`[]`)", nullptr, kValue},
    {"sum(`[null]`)", "null"},
    {"sum(`[\"a\"]`)", "\"a\""},
    {"sum(`[null, 1]`)", nullptr, kType},
    {"sum(`[1, null]`)", nullptr, kType},
};

TEST(JmespathNullArguments, EachFunctionAsKyverno) {
  auto data = json::parse(R"({"request": {"object": {"metadata": {"labels": {}}}}})");
  ASSERT_TRUE(data.ok());
  for (const auto& c : kCases) {
    auto got = search(c.expression, *data, kyverno_functions());
    if (c.result == nullptr) {
      ASSERT_FALSE(got.ok()) << c.expression << ": got " << json::serialize(*got);
      EXPECT_EQ(error_kind(got.error()), c.error) << c.expression << ": " << got.error().message;
      continue;
    }
    ASSERT_TRUE(got.ok()) << c.expression << ": " << got.error().message;
    auto want = json::parse(c.result);
    ASSERT_TRUE(want.ok()) << c.result;
    EXPECT_TRUE(values_equal(*got, *want)) << c.expression << ": got " << json::serialize(*got) << ", want "
                                           << c.result;
  }
}

// The message names the function, the argument and what it got, so a policy author sees
// which field was missing.
TEST(JmespathNullArguments, TypeErrorNamesTheArgument) {
  auto got = search("to_upper(request.object.missing)", bj::value(bj::object()), kyverno_functions());
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find("to_upper(): argument 1 must be a string, got null"), std::string::npos)
      << got.error().message;
  got = search("sum(`[]`)", bj::value(), kyverno_functions());
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find("JMESPath function 'sum': at least one element in the array is required"),
            std::string::npos)
      << got.error().message;
}

// The specification's registry keeps the specification's sum.
TEST(JmespathNullArguments, StandardSumUnchanged) {
  auto got = search("sum(`[]`)", bj::value());
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_TRUE(values_equal(*got, bj::value(0)));
}

}  // namespace
}  // namespace vouch::policy::jmespath
