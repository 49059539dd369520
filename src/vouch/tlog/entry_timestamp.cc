#include "vouch/tlog/entry_timestamp.h"

#include <boost/json.hpp>

#include "vouch/base/canonical_json.h"

namespace vouch::tlog {

Result<std::string> entry_timestamp_payload(ByteView body, int64_t integrated_time, ByteView log_id, int64_t log_index) {
  boost::json::object payload;
  payload["body"] = base64_encode(body);
  payload["integratedTime"] = integrated_time;
  payload["logID"] = hex_encode(log_id);
  payload["logIndex"] = log_index;
  return json::canonicalize(payload);
}

Result<Bytes> sign_entry_timestamp(const crypto::PrivateKey& key, ByteView body, int64_t integrated_time,
                                   ByteView log_id, int64_t log_index) {
  VOUCH_ASSIGN_OR_RETURN(std::string payload, entry_timestamp_payload(body, integrated_time, log_id, log_index));
  return key.sign(as_bytes(payload));
}

}  // namespace vouch::tlog
