#include "vouch/intoto/dsse.h"

#include "vouch/base/json.h"

namespace vouch::intoto {

namespace bj = boost::json;

Bytes pae(std::string_view payload_type, ByteView payload) {
  std::string head = fmt::format("DSSEv1 {} {} {} ", payload_type.size(), payload_type, payload.size());
  Bytes out;
  out.reserve(head.size() + payload.size());
  out.assign(head.begin(), head.end());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Result<Envelope> parse_envelope(std::string_view text) {
  auto parsed = json::parse(text, {.max_bytes = 64 * 1024 * 1024, .max_depth = 16});
  if (!parsed.ok()) return std::move(parsed).error().context("DSSE envelope");
  json::Node root = json::Node::root(*parsed);
  auto result = [&]() -> Result<Envelope> {
    Envelope e;
    VOUCH_ASSIGN_OR_RETURN(e.payload, root.get_bytes("payload"));
    VOUCH_ASSIGN_OR_RETURN(e.payload_type, root.get_string("payloadType"));
    VOUCH_ASSIGN_OR_RETURN(json::Node sigs, root.get("signatures"));
    VOUCH_ASSIGN_OR_RETURN(auto items, sigs.array());
    if (items.empty()) return sigs.error("no signatures");
    if (items.size() > 64) return sigs.error("more than 64 signatures");
    for (const auto& s : items) {
      Signature sig;
      VOUCH_ASSIGN_OR_RETURN(sig.sig, s.get_bytes("sig"));
      if (auto keyid = s.find("keyid")) {
        VOUCH_ASSIGN_OR_RETURN(sig.keyid, keyid->string());
      }
      e.signatures.push_back(std::move(sig));
    }
    return e;
  }();
  if (!result.ok()) return std::move(result).error().context("DSSE envelope");
  return result;
}

std::string serialize_envelope(const Envelope& e) {
  bj::array sigs;
  for (const auto& s : e.signatures) sigs.push_back(bj::object{{"keyid", s.keyid}, {"sig", base64_encode(s.sig)}});
  bj::object o{{"payloadType", e.payload_type}, {"payload", base64_encode(e.payload)}, {"signatures", std::move(sigs)}};
  return bj::serialize(o);
}

Result<Envelope> sign_envelope(std::string_view payload_type, ByteView payload, const crypto::PrivateKey& key,
                               std::string keyid) {
  Envelope e;
  e.payload.assign(payload.begin(), payload.end());
  e.payload_type = std::string(payload_type);
  VOUCH_ASSIGN_OR_RETURN(Bytes sig, key.sign(pae(payload_type, payload)));
  e.signatures.push_back({std::move(sig), std::move(keyid)});
  return e;
}

Status verify_envelope(const Envelope& e, const crypto::PublicKey& key) {
  if (e.signatures.empty()) return verification_failed("DSSE envelope has no signatures");
  Bytes message = pae(e.payload_type, e.payload);
  for (const auto& s : e.signatures)
    if (key.verify(message, s.sig, key.default_hash()).ok()) return ok_status();
  return verification_failed("no signature in the DSSE envelope verifies with the key");
}

}  // namespace vouch::intoto
