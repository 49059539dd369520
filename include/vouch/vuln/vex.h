// OpenVEX (v0.0.1 and v0.2.0) statements that suppress findings: a statement whose
// vulnerability names a finding (by id or alias) and whose product or subcomponent names
// the package (by purl) with status not_affected or fixed moves the finding to the
// report's suppressed list, with the status, justification and statement kept as the reason.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/result.h"
#include "vouch/vuln/matcher.h"

namespace vouch::vuln {

struct VexStatement {
  std::string document;                 // the document's @id (or file name)
  std::vector<std::string> vulnerability;  // name and aliases
  std::vector<std::string> products;       // product @ids (purls, image references)
  std::vector<std::string> subcomponents;  // subcomponent @ids
  std::string status;                      // not_affected, affected, fixed, under_investigation
  std::string justification;
  std::string impact_statement;
  std::string action_statement;
};

Result<std::vector<VexStatement>> parse_openvex(std::string_view text, std::string_view source);

// `subject` is what the SBOM describes (an image reference); a statement about the subject
// with no subcomponents covers every package in it.
void apply_vex(const std::vector<VexStatement>& statements, std::string_view subject, MatchReport& report);

}  // namespace vouch::vuln
