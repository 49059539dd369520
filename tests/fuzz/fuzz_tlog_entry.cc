// libFuzzer target: proposed Rekor entries (hashedrekord, dsse, intoto) and Rekor API log
// entry responses, on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vouch/tlog/client.h"
#include "vouch/tlog/entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vouch;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto entry = tlog::canonicalize_proposed_entry(input);
  if (entry.ok()) {
    // A canonical body is itself a valid proposal for hashedrekord; it must canonicalize the same.
    auto again = tlog::canonicalize_proposed_entry(entry->body);
    if (entry->kind == "hashedrekord" && (!again.ok() || again->body != entry->body)) __builtin_trap();
  }
  (void)tlog::parse_log_entries(input);
  return 0;
}
