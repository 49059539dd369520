// in-toto Statements (v1, and v0.1 for reading): what an attestation says, about which subjects.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"

namespace vouch::intoto {

inline constexpr std::string_view kStatementV1 = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view kStatementV01 = "https://in-toto.io/Statement/v0.1";

struct Subject {
  std::string name;
  std::map<std::string, std::string> digest;  // algorithm ("sha256") -> lowercase hex
};

struct Statement {
  std::string type = std::string(kStatementV1);
  std::vector<Subject> subjects;
  std::string predicate_type;
  boost::json::value predicate;

  // True when some subject carries this digest (algorithm as in-toto names it, hex any case).
  bool has_subject_digest(std::string_view algorithm, std::string_view hex) const;
};

Result<Statement> parse_statement(ByteView json);
// Members in the order cosign writes them: _type, subject, predicateType, predicate.
std::string serialize_statement(const Statement& statement);

}  // namespace vouch::intoto
