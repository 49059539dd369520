// libFuzzer target: TUF metadata from a repository (the first byte picks the role: root,
// timestamp, snapshot, targets), its keys and delegations; what parses is put to canonical JSON
// and its signatures checked against its own keys, as a client would check a new root.
#include <cstddef>
#include <cstdint>
#include <string>

#include "vouch/tuf/metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vouch::tuf;
  if (size == 0) return 0;
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto root = parse_root(bytes);
      if (!root.ok()) return 0;
      (void)verify_threshold(root->signed_json, root->signatures, root->role.keys, root->role.roles.at("root"), "root");
      (void)canonical_json(root->signed_json);
      break;
    }
    case 1: (void)parse_timestamp(bytes); break;
    case 2: (void)parse_snapshot(bytes); break;
    default: {
      auto targets = parse_targets(bytes);
      if (!targets.ok() || !targets->role.delegations) return 0;
      for (const auto& role : targets->role.delegations->roles) (void)role.matches("a/b/c.json");
      break;
    }
  }
  return 0;
}
