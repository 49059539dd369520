#include "vouch/slsa/provenance.h"

#include <fmt/format.h>

#include "vouch/base/json.h"
#include "vouch/intoto/predicate.h"

namespace vouch::slsa {
namespace {

using json::Node;
namespace bj = boost::json;

// An optional string member: empty when absent or null, an error naming it when not a string.
Result<std::string> optional_string(const Node& parent, std::string_view key) {
  auto node = parent.find(key);
  if (!node) return std::string();
  return node->string();
}

// An optional object member: nullopt when absent or null, an error when present and not an object.
Result<std::optional<Node>> optional_object(const Node& parent, std::string_view key) {
  auto node = parent.find(key);
  if (!node) return std::optional<Node>();
  if (!node->is_object()) return node->error("want an object");
  return node;
}

Result<std::map<std::string, std::string>> digest_set(const Node& node) {
  if (!node.is_object()) return node.error("want an object of algorithm to digest");
  std::map<std::string, std::string> out;
  for (const auto& [alg, value] : node.raw().as_object()) {
    Node v = *node.find(alg);
    if (!value.is_string()) return v.error("want a string");
    out[std::string(alg)] = std::string(value.as_string());
  }
  return out;
}

Result<ResourceDescriptor> resource_descriptor(const Node& node, std::string_view name_key) {
  if (!node.is_object()) return node.error("want an object");
  ResourceDescriptor rd;
  VOUCH_ASSIGN_OR_RETURN(rd.uri, optional_string(node, "uri"));
  VOUCH_ASSIGN_OR_RETURN(rd.name, optional_string(node, name_key));
  if (auto d = node.find("digest")) {
    VOUCH_ASSIGN_OR_RETURN(rd.digest, digest_set(*d));
  }
  return rd;
}

Result<std::vector<ResourceDescriptor>> descriptor_list(const Node& parent, std::string_view key) {
  std::vector<ResourceDescriptor> out;
  auto node = parent.find(key);
  if (!node) return out;
  VOUCH_ASSIGN_OR_RETURN(auto items, node->array());
  for (const auto& item : items) {
    VOUCH_ASSIGN_OR_RETURN(auto rd, resource_descriptor(item, "name"));
    out.push_back(std::move(rd));
  }
  return out;
}

bj::value optional_value(const Node& parent, std::string_view key) {
  auto node = parent.find(key);
  return node ? node->raw() : bj::value();
}

Result<std::vector<intoto::Subject>> subjects(const Node& statement) {
  VOUCH_ASSIGN_OR_RETURN(Node list, statement.get("subject"));
  VOUCH_ASSIGN_OR_RETURN(auto items, list.array());
  if (items.empty()) return list.error("the statement has no subject");
  std::vector<intoto::Subject> out;
  for (const auto& item : items) {
    if (!item.is_object()) return item.error("want an object");
    intoto::Subject s;
    VOUCH_ASSIGN_OR_RETURN(s.name, optional_string(item, "name"));
    auto digest = item.find("digest");
    if (!digest) return item.error("the subject has no digest");
    VOUCH_ASSIGN_OR_RETURN(s.digest, digest_set(*digest));
    if (s.digest.empty()) return digest->error("the subject's digest is empty");
    out.push_back(std::move(s));
  }
  return out;
}

Status read_v1(const Node& predicate, Provenance& p) {
  VOUCH_ASSIGN_OR_RETURN(auto definition, optional_object(predicate, "buildDefinition"));
  if (definition) {
    VOUCH_ASSIGN_OR_RETURN(p.build_type, optional_string(*definition, "buildType"));
    p.external_parameters = optional_value(*definition, "externalParameters");
    p.internal_parameters = optional_value(*definition, "internalParameters");
    VOUCH_ASSIGN_OR_RETURN(p.resolved_dependencies, descriptor_list(*definition, "resolvedDependencies"));
  }
  VOUCH_ASSIGN_OR_RETURN(auto run, optional_object(predicate, "runDetails"));
  if (run) {
    VOUCH_ASSIGN_OR_RETURN(auto builder, optional_object(*run, "builder"));
    if (builder) {
      VOUCH_ASSIGN_OR_RETURN(p.builder_id, optional_string(*builder, "id"));
    }
    VOUCH_ASSIGN_OR_RETURN(auto metadata, optional_object(*run, "metadata"));
    if (metadata) {
      VOUCH_ASSIGN_OR_RETURN(p.invocation_id, optional_string(*metadata, "invocationId"));
      VOUCH_ASSIGN_OR_RETURN(p.started_on, optional_string(*metadata, "startedOn"));
      VOUCH_ASSIGN_OR_RETURN(p.finished_on, optional_string(*metadata, "finishedOn"));
    }
  }
  return ok_status();
}

Status read_v02(const Node& predicate, Provenance& p) {
  VOUCH_ASSIGN_OR_RETURN(auto builder, optional_object(predicate, "builder"));
  if (builder) {
    VOUCH_ASSIGN_OR_RETURN(p.builder_id, optional_string(*builder, "id"));
  }
  VOUCH_ASSIGN_OR_RETURN(p.build_type, optional_string(predicate, "buildType"));
  VOUCH_ASSIGN_OR_RETURN(auto invocation, optional_object(predicate, "invocation"));
  if (invocation) {
    if (auto source = invocation->find("configSource")) {
      VOUCH_ASSIGN_OR_RETURN(p.config_source, resource_descriptor(*source, "entryPoint"));
    }
    p.external_parameters = optional_value(*invocation, "parameters");
    p.internal_parameters = optional_value(*invocation, "environment");
  }
  VOUCH_ASSIGN_OR_RETURN(p.resolved_dependencies, descriptor_list(predicate, "materials"));
  VOUCH_ASSIGN_OR_RETURN(auto metadata, optional_object(predicate, "metadata"));
  if (metadata) {
    VOUCH_ASSIGN_OR_RETURN(p.invocation_id, optional_string(*metadata, "buildInvocationId"));
    VOUCH_ASSIGN_OR_RETURN(p.started_on, optional_string(*metadata, "buildStartedOn"));
    VOUCH_ASSIGN_OR_RETURN(p.finished_on, optional_string(*metadata, "buildFinishedOn"));
  }
  return ok_status();
}

}  // namespace

Result<Provenance> provenance_from_json(const bj::value& value) {
  Node root = Node::root(value);
  if (!root.is_object()) return invalid_input("statement: want a JSON object");
  Provenance p;
  VOUCH_ASSIGN_OR_RETURN(Node type, root.get("_type"));
  VOUCH_ASSIGN_OR_RETURN(p.statement_type, type.string());
  if (p.statement_type != intoto::kStatementV1 && p.statement_type != intoto::kStatementV01)
    return type.error(fmt::format("'{}' is not an in-toto Statement type", p.statement_type));
  VOUCH_ASSIGN_OR_RETURN(p.subjects, subjects(root));
  VOUCH_ASSIGN_OR_RETURN(Node predicate_type, root.get("predicateType"));
  VOUCH_ASSIGN_OR_RETURN(p.predicate_type, predicate_type.string());
  if (p.predicate_type == intoto::kSlsaProvenanceV1) {
    p.version = ProvenanceVersion::kV1;
  } else if (p.predicate_type == intoto::kSlsaProvenanceV02) {
    p.version = ProvenanceVersion::kV02;
  } else {
    return predicate_type.error(fmt::format("'{}' is not SLSA provenance (want {} or {})", p.predicate_type,
                                            intoto::kSlsaProvenanceV1, intoto::kSlsaProvenanceV02));
  }
  VOUCH_ASSIGN_OR_RETURN(Node predicate, root.get("predicate"));
  if (!predicate.is_object()) return predicate.error("want an object");
  p.predicate = predicate.raw();
  if (p.version == ProvenanceVersion::kV1) {
    VOUCH_RETURN_IF_ERROR(read_v1(predicate, p));
  } else {
    VOUCH_RETURN_IF_ERROR(read_v02(predicate, p));
  }
  return p;
}

Result<Provenance> parse_provenance(ByteView statement_json) {
  json::ParseLimits limits;
  limits.max_bytes = kMaxStatementBytes;
  limits.max_depth = kMaxStatementDepth;
  auto value = json::parse(as_chars(statement_json), limits);
  if (!value.ok()) return std::move(value).error().context("statement");
  return provenance_from_json(*value);
}

}  // namespace vouch::slsa
