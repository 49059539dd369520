#include "vouch/intoto/statement.h"

#include <algorithm>

#include "vouch/base/ascii.h"
#include "vouch/base/json.h"

namespace vouch::intoto {

namespace bj = boost::json;

bool Statement::has_subject_digest(std::string_view algorithm, std::string_view hex) const {
  std::string want = lower(hex);
  for (const auto& s : subjects) {
    auto it = s.digest.find(std::string(algorithm));
    if (it == s.digest.end()) continue;
    if (lower(it->second) == want) return true;
  }
  return false;
}

Result<Statement> parse_statement(ByteView bytes) {
  auto parsed = json::parse(as_chars(bytes), {.max_bytes = 64 * 1024 * 1024, .max_depth = 128});
  if (!parsed.ok()) return std::move(parsed).error().context("in-toto statement");
  json::Node root = json::Node::root(*parsed);
  auto result = [&]() -> Result<Statement> {
    if (!root.is_object()) return root.error("expected an object");
    Statement st;
    VOUCH_ASSIGN_OR_RETURN(st.type, root.get_string("_type"));
    if (st.type != kStatementV1 && st.type != kStatementV01)
      return invalid_input(fmt::format("_type: unsupported statement type '{}'", st.type.substr(0, 100)));
    VOUCH_ASSIGN_OR_RETURN(json::Node subjects, root.get("subject"));
    VOUCH_ASSIGN_OR_RETURN(auto items, subjects.array());
    if (items.empty()) return subjects.error("no subjects");
    for (const auto& item : items) {
      Subject s;
      if (auto name = item.find("name")) {
        VOUCH_ASSIGN_OR_RETURN(s.name, name->string());
      }
      VOUCH_ASSIGN_OR_RETURN(json::Node digest, item.get("digest"));
      if (!digest.is_object()) return digest.error("expected an object");
      for (const auto& [alg, value] : digest.raw().get_object()) {
        if (!value.is_string()) return digest.error(fmt::format("digest '{}' is not a string", std::string(alg)));
        s.digest.emplace(std::string(alg), std::string(value.get_string()));
      }
      st.subjects.push_back(std::move(s));
    }
    VOUCH_ASSIGN_OR_RETURN(st.predicate_type, root.get_string("predicateType"));
    if (auto predicate = root.find("predicate")) st.predicate = predicate->raw();
    return st;
  }();
  if (!result.ok()) return std::move(result).error().context("in-toto statement");
  return result;
}

std::string serialize_statement(const Statement& st) {
  bj::array subjects;
  for (const auto& s : st.subjects) {
    bj::object digest;
    for (const auto& [alg, hex] : s.digest) digest[alg] = hex;
    subjects.push_back(bj::object{{"name", s.name}, {"digest", std::move(digest)}});
  }
  bj::object o;
  o["_type"] = st.type;
  o["subject"] = std::move(subjects);
  o["predicateType"] = st.predicate_type;
  o["predicate"] = st.predicate;
  return bj::serialize(o);
}

}  // namespace vouch::intoto
