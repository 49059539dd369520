// SLSA provenance (https://slsa.dev/provenance/v0.2 and v1) inside an in-toto Statement: one model
// for both versions, read leniently as the specification asks (unknown members are ignored, an
// absent member is empty) from untrusted bytes with bounded size and depth. A member of the wrong
// JSON type, a subject without a digest or a predicate of another type is an error naming the field.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/intoto/statement.h"

namespace vouch::slsa {

inline constexpr size_t kMaxStatementBytes = 16 * 1024 * 1024;
inline constexpr unsigned kMaxStatementDepth = 64;

enum class ProvenanceVersion { kV02, kV1 };

// A ResourceDescriptor (v1), or a material / configSource (v0.2).
struct ResourceDescriptor {
  std::string uri;
  std::string name;
  std::map<std::string, std::string> digest;  // algorithm -> value, as written
};

struct Provenance {
  ProvenanceVersion version = ProvenanceVersion::kV1;
  std::string statement_type;  // _type
  std::string predicate_type;
  std::vector<intoto::Subject> subjects;

  // v1 runDetails.builder.id; v0.2 builder.id.
  std::string builder_id;
  // v1 buildDefinition.buildType; v0.2 buildType.
  std::string build_type;
  // v1 buildDefinition.externalParameters / internalParameters; v0.2 invocation.parameters /
  // invocation.environment (the v1 names of the same roles). Null when absent.
  boost::json::value external_parameters;
  boost::json::value internal_parameters;
  // v0.2 invocation.configSource (its entryPoint in `config_source.name`); empty for v1.
  ResourceDescriptor config_source;
  // v1 buildDefinition.resolvedDependencies; v0.2 materials.
  std::vector<ResourceDescriptor> resolved_dependencies;
  // v1 runDetails.metadata.{invocationId, startedOn, finishedOn}; v0.2 metadata.buildInvocationId, ...
  std::string invocation_id, started_on, finished_on;

  boost::json::value predicate;  // as received
};

// Parses an in-toto Statement (v1 or v0.1) whose predicate is SLSA provenance v0.2 or v1.
Result<Provenance> parse_provenance(ByteView statement_json);
// The same from an already parsed statement value.
Result<Provenance> provenance_from_json(const boost::json::value& statement);

}  // namespace vouch::slsa
