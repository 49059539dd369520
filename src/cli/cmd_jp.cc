// jp query: evaluate a JMESPath expression with Kyverno's functions, as `kyverno jp query`.
#include <algorithm>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "vouch/base/file.h"
#include "vouch/policy/document.h"
#include "vouch/policy/jmespath.h"

namespace vouch::cli {
namespace {

namespace bj = boost::json;
namespace jp = policy::jmespath;

constexpr size_t kMaxInputBytes = 64 << 20;

struct QueryOptions {
  std::string input;
  std::vector<std::string> query_files;
  std::vector<std::string> expressions;
  bool unquoted = false;
  bool compact = false;
};

// Go's json.MarshalIndent(v, "", "  ") with map keys sorted, numbers as Go writes float64.
Status write_indented(const bj::value& v, std::string& out, int indent, bool compact) {
  auto newline = [&](int level) {
    if (compact) return;
    out.push_back('\n');
    out.append(static_cast<size_t>(level) * 2, ' ');
  };
  if (v.is_array() && !v.get_array().empty()) {
    out.push_back('[');
    bool first = true;
    for (const auto& e : v.get_array()) {
      if (!first) out.push_back(',');
      first = false;
      newline(indent + 1);
      VOUCH_RETURN_IF_ERROR(write_indented(e, out, indent + 1, compact));
    }
    newline(indent);
    out.push_back(']');
    return ok_status();
  }
  if (v.is_object() && !v.get_object().empty()) {
    std::vector<const bj::key_value_pair*> members;
    for (const auto& kv : v.get_object()) members.push_back(&kv);
    std::sort(members.begin(), members.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
    out.push_back('{');
    bool first = true;
    for (const auto* kv : members) {
      if (!first) out.push_back(',');
      first = false;
      newline(indent + 1);
      VOUCH_ASSIGN_OR_RETURN(std::string key, jp::to_json_text(bj::value(kv->key())));
      out += key;
      out += compact ? ":" : ": ";
      VOUCH_RETURN_IF_ERROR(write_indented(kv->value(), out, indent + 1, compact));
    }
    newline(indent);
    out.push_back('}');
    return ok_status();
  }
  VOUCH_ASSIGN_OR_RETURN(std::string text, jp::to_json_text(v));
  out += text;
  return ok_status();
}

Result<bj::value> load_input(const std::string& path) {
  std::string text;
  std::string source = path.empty() ? "standard input" : path;
  if (path.empty() || path == "-") {
    // Read no more than the limit (and one byte) so that an endless input ends at once.
    char buf[1 << 16];
    while (text.size() <= kMaxInputBytes && std::cin.read(buf, sizeof buf).gcount() > 0) {
      text.append(buf, static_cast<size_t>(std::cin.gcount()));
    }
    if (text.size() > kMaxInputBytes) return invalid_input("standard input: larger than 64 MiB");
  } else {
    VOUCH_ASSIGN_OR_RETURN(text, read_file(path, kMaxInputBytes));
  }
  return policy::parse_document(text, source, {.max_bytes = kMaxInputBytes, .max_depth = 256});
}

int query(const QueryOptions& opts) {
  std::vector<std::string> expressions;
  for (const auto& f : opts.query_files) {
    auto text = read_file(f, 1 << 20);
    if (!text.ok()) return report(text.error());
    expressions.push_back(*text);
  }
  for (const auto& e : opts.expressions) expressions.push_back(e);
  if (expressions.empty()) return report(invalid_input("jp query: give an EXPRESSION or -q FILE"));
  std::vector<jp::Expression> compiled;
  for (const auto& e : expressions) {
    auto c = jp::Expression::compile(e, jp::kyverno_functions());
    if (!c.ok()) return report(c.error());
    compiled.push_back(std::move(c).value());
  }
  auto input = load_input(opts.input);
  if (!input.ok()) return report(input.error());
  std::string out;
  for (const auto& c : compiled) {
    auto result = c.search(*input);
    if (!result.ok()) return report(result.error());
    if (opts.unquoted && result->is_string()) {
      out += std::string(result->get_string());
    } else {
      auto st = write_indented(*result, out, 0, opts.compact);
      if (!st.ok()) return report(st.error());
    }
    out.push_back('\n');
  }
  std::cout << out << std::flush;
  return kExitOk;
}

}  // namespace

void register_jp_commands(CLI::App& app, int& exit_code) {
  auto* jp_cmd = app.add_subcommand("jp", "JMESPath with Kyverno's functions, as `kyverno jp`.");
  jp_cmd->require_subcommand(1);
  auto q = std::make_shared<QueryOptions>();
  auto* query_cmd = jp_cmd->add_subcommand(
      "query",
      "Evaluate JMESPath expressions on a JSON or YAML document (a file, or standard input) with\n"
      "Kyverno's functions and print each result as JSON.\n"
      "Exit 0 on success, 2 on a syntax or evaluation error or unreadable input.");
  query_cmd->add_option("-i,--input", q->input, "Input document, JSON or YAML (default: standard input)");
  query_cmd->add_option("-q,--query", q->query_files, "Read an expression from this file (repeatable)");
  query_cmd->add_flag("-u,--unquoted", q->unquoted, "Print string results without quotes");
  query_cmd->add_flag("-c,--compact", q->compact, "Print results on one line");
  // Expressions are taken verbatim (CLI11 would read "[0]" as a list of values).
  query_cmd->prefix_command();
  query_cmd->footer("EXPRESSION...: JMESPath expressions, after the options");
  query_cmd->callback([q, query_cmd, &exit_code] {
    q->expressions = query_cmd->remaining();
    if (!q->expressions.empty() && q->expressions.front() == "--") q->expressions.erase(q->expressions.begin());
    exit_code = query(*q);
  });
}

}  // namespace vouch::cli
