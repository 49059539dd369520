// DSSE envelopes (secure-systems-lab/dsse v1): a payload, its type, and signatures over the
// pre-authentication encoding of both. The JSON form is the one cosign stores in `.att`
// layers and Sigstore bundles carry as `dsseEnvelope`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"
#include "vouch/crypto/keys.h"

namespace vouch::intoto {

inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";

struct Signature {
  Bytes sig;
  std::string keyid;
};

struct Envelope {
  Bytes payload;
  std::string payload_type;
  std::vector<Signature> signatures;
};

// "DSSEv1 <len(type)> <type> <len(payload)> <payload>": the bytes a DSSE signature covers.
Bytes pae(std::string_view payload_type, ByteView payload);

Result<Envelope> parse_envelope(std::string_view json);
std::string serialize_envelope(const Envelope& envelope);

// Signs with the key's default digest (SHA-256 for P-256), as cosign does.
Result<Envelope> sign_envelope(std::string_view payload_type, ByteView payload, const crypto::PrivateKey& key,
                               std::string keyid = {});
// Passes when at least one signature verifies with `key`.
Status verify_envelope(const Envelope& envelope, const crypto::PublicKey& key);

}  // namespace vouch::intoto
