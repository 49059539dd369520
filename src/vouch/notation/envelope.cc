#include "vouch/notation/envelope.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "vouch/base/json.h"
#include "vouch/crypto/digest.h"
#include "vouch/notation/cbor.h"

namespace vouch::notation {
namespace {

namespace bj = boost::json;

constexpr std::string_view kSigningScheme = "io.cncf.notary.signingScheme";
constexpr std::string_view kSigningTime = "io.cncf.notary.signingTime";
constexpr std::string_view kAuthenticSigningTime = "io.cncf.notary.authenticSigningTime";
constexpr std::string_view kExpiry = "io.cncf.notary.expiry";
constexpr std::string_view kTimestampSignature = "io.cncf.notary.timestampSignature";
constexpr std::string_view kSigningAgent = "io.cncf.notary.signingAgent";
constexpr std::string_view kVerificationPlugin = "io.cncf.notary.verificationPlugin";
constexpr int64_t kCoseAlg = 1;
constexpr int64_t kCoseCrit = 2;
constexpr int64_t kCoseContentType = 3;
constexpr int64_t kCoseX5Chain = 33;
constexpr uint64_t kCoseSign1Tag = 18;
constexpr uint64_t kEpochTimeTag = 1;

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

struct Free {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};

crypto::HashAlgorithm algorithm_hash(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::kPs256:
    case SignatureAlgorithm::kEs256: return crypto::HashAlgorithm::kSha256;
    case SignatureAlgorithm::kPs384:
    case SignatureAlgorithm::kEs384: return crypto::HashAlgorithm::kSha384;
    default: return crypto::HashAlgorithm::kSha512;
  }
}

bool is_rsa(SignatureAlgorithm alg) {
  return alg == SignatureAlgorithm::kPs256 || alg == SignatureAlgorithm::kPs384 || alg == SignatureAlgorithm::kPs512;
}

const EVP_MD* evp_md(crypto::HashAlgorithm hash) {
  switch (hash) {
    case crypto::HashAlgorithm::kSha256: return EVP_sha256();
    case crypto::HashAlgorithm::kSha384: return EVP_sha384();
    default: return EVP_sha512();
  }
}

size_t ec_field_bytes(SignatureAlgorithm alg) {
  return alg == SignatureAlgorithm::kEs256 ? 32 : alg == SignatureAlgorithm::kEs384 ? 48 : 66;
}

Result<SignatureAlgorithm> algorithm_from_jws_name(std::string_view name) {
  for (auto alg : {SignatureAlgorithm::kPs256, SignatureAlgorithm::kPs384, SignatureAlgorithm::kPs512,
                   SignatureAlgorithm::kEs256, SignatureAlgorithm::kEs384, SignatureAlgorithm::kEs512})
    if (algorithm_name(alg) == name) return alg;
  return invalid_input(fmt::format("signature algorithm \"{}\" is not supported", name));
}

int64_t cose_algorithm_id(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::kPs256: return -37;
    case SignatureAlgorithm::kPs384: return -38;
    case SignatureAlgorithm::kPs512: return -39;
    case SignatureAlgorithm::kEs256: return -7;
    case SignatureAlgorithm::kEs384: return -35;
    default: return -36;
  }
}

Result<SignatureAlgorithm> algorithm_from_cose_id(int64_t id) {
  for (auto alg : {SignatureAlgorithm::kPs256, SignatureAlgorithm::kPs384, SignatureAlgorithm::kPs512,
                   SignatureAlgorithm::kEs256, SignatureAlgorithm::kEs384, SignatureAlgorithm::kEs512})
    if (cose_algorithm_id(alg) == id) return alg;
  return invalid_input(fmt::format("COSE algorithm {} is not supported", id));
}

Result<SigningScheme> scheme_from_name(std::string_view name) {
  if (name == "notary.x509") return SigningScheme::kX509;
  if (name == "notary.x509.signingAuthority") return SigningScheme::kX509SigningAuthority;
  return invalid_input(fmt::format("signing scheme \"{}\" is not supported", name));
}

// Header checks both formats share, once the headers are read: the time that goes with the
// scheme, and the critical list.
Status check_headers(Envelope& env, bool has_signing_time, bool has_authentic_time,
                     const std::vector<std::string>& crit, const std::function<bool(std::string_view)>& present) {
  if (env.content_type != kPayloadMediaType)
    return invalid_input(fmt::format("payload content type \"{}\" is not supported", env.content_type));
  if (env.scheme == SigningScheme::kX509) {
    if (!has_signing_time) return invalid_input(fmt::format("{} is required by signing scheme notary.x509", kSigningTime));
    if (has_authentic_time)
      return invalid_input(fmt::format("{} is not allowed under signing scheme notary.x509", kAuthenticSigningTime));
  } else {
    if (!has_authentic_time)
      return invalid_input(fmt::format("{} is required by signing scheme notary.x509.signingAuthority", kAuthenticSigningTime));
  }
  auto critical = [&](std::string_view name) { return std::find(crit.begin(), crit.end(), name) != crit.end(); };
  if (!critical(kSigningScheme)) return invalid_input(fmt::format("{} must be listed as critical", kSigningScheme));
  if (env.expiry && !critical(kExpiry)) return invalid_input(fmt::format("{} must be listed as critical", kExpiry));
  if (has_authentic_time && !critical(kAuthenticSigningTime))
    return invalid_input(fmt::format("{} must be listed as critical", kAuthenticSigningTime));
  for (const auto& name : crit) {
    if (!present(name)) return invalid_input(fmt::format("critical header \"{}\" is not in the protected headers", name));
    if (name != kSigningScheme && name != kExpiry && name != kAuthenticSigningTime) env.unknown_critical.push_back(name);
  }
  if (env.chain.empty()) return invalid_input("the envelope carries no certificate chain");
  return ok_status();
}

Result<crypto::Certificate> certificate_at(ByteView der, size_t index) {
  auto cert = crypto::Certificate::from_der(der);
  if (!cert.ok()) return invalid_input(fmt::format("certificate {} of the chain: {}", index, cert.error().message));
  return *cert;
}

Result<Envelope> parse_jws(ByteView data, const EnvelopeLimits& limits) {
  VOUCH_ASSIGN_OR_RETURN(auto doc, json::parse(as_chars(data), {limits.max_bytes, 16}));
  if (!doc.is_object()) return invalid_input("JWS envelope: not a JSON object");
  const auto& top = doc.as_object();
  auto text_member = [&](std::string_view name) -> Result<std::string> {
    auto* v = top.if_contains(name);
    if (!v || !v->is_string()) return invalid_input(fmt::format("JWS envelope: \"{}\" must be a string", name));
    return std::string(v->as_string());
  };
  VOUCH_ASSIGN_OR_RETURN(auto payload_b64, text_member("payload"));
  VOUCH_ASSIGN_OR_RETURN(auto protected_b64, text_member("protected"));
  VOUCH_ASSIGN_OR_RETURN(auto signature_b64, text_member("signature"));
  auto decode = [](std::string_view what, std::string_view text) -> Result<Bytes> {
    if (text.find('=') != std::string_view::npos)
      return invalid_input(fmt::format("JWS envelope: {} is padded base64url", what));
    auto bytes = base64url_decode(text);
    if (!bytes.ok()) return invalid_input(fmt::format("JWS envelope: {} is not base64url", what));
    return *bytes;
  };
  Envelope env;
  env.format = EnvelopeFormat::kJws;
  VOUCH_ASSIGN_OR_RETURN(auto payload, decode("payload", payload_b64));
  VOUCH_ASSIGN_OR_RETURN(auto protected_bytes, decode("protected", protected_b64));
  VOUCH_ASSIGN_OR_RETURN(env.signature, decode("signature", signature_b64));
  env.payload = to_string(payload);
  env.signing_input = to_bytes(protected_b64 + "." + payload_b64);

  auto header_doc = json::parse(as_chars(protected_bytes), {64 * 1024, 8});
  if (!header_doc.ok() || !header_doc->is_object()) return invalid_input("JWS envelope: protected header is not a JSON object");
  const auto& header = header_doc->as_object();
  auto header_text = [&](std::string_view name, bool required) -> Result<std::optional<std::string>> {
    auto* v = header.if_contains(name);
    if (!v) {
      if (required) return invalid_input(fmt::format("JWS envelope: protected header \"{}\" is missing", name));
      return std::optional<std::string>();
    }
    if (!v->is_string()) return invalid_input(fmt::format("JWS envelope: protected header \"{}\" must be a string", name));
    return std::optional<std::string>(std::string(v->as_string()));
  };
  auto header_time = [&](std::string_view name) -> Result<std::optional<UnixSeconds>> {
    VOUCH_ASSIGN_OR_RETURN(auto text, header_text(name, false));
    if (!text) return std::optional<UnixSeconds>();
    auto t = parse_rfc3339(*text);
    if (!t.ok()) return invalid_input(fmt::format("JWS envelope: \"{}\" is not an RFC 3339 time", name));
    return std::optional<UnixSeconds>(*t);
  };
  VOUCH_ASSIGN_OR_RETURN(auto alg, header_text("alg", true));
  VOUCH_ASSIGN_OR_RETURN(env.algorithm, algorithm_from_jws_name(*alg));
  VOUCH_ASSIGN_OR_RETURN(auto cty, header_text("cty", true));
  env.content_type = *cty;
  VOUCH_ASSIGN_OR_RETURN(auto scheme, header_text(kSigningScheme, true));
  VOUCH_ASSIGN_OR_RETURN(env.scheme, scheme_from_name(*scheme));
  VOUCH_ASSIGN_OR_RETURN(auto signing_time, header_time(kSigningTime));
  VOUCH_ASSIGN_OR_RETURN(auto authentic_time, header_time(kAuthenticSigningTime));
  VOUCH_ASSIGN_OR_RETURN(env.expiry, header_time(kExpiry));
  VOUCH_ASSIGN_OR_RETURN(auto plugin, header_text(kVerificationPlugin, false));
  if (plugin) env.verification_plugin = *plugin;
  env.signing_time = env.scheme == SigningScheme::kX509 ? signing_time.value_or(0) : authentic_time.value_or(0);

  std::vector<std::string> crit;
  auto* crit_value = header.if_contains("crit");
  if (!crit_value || !crit_value->is_array()) return invalid_input("JWS envelope: protected header \"crit\" must be an array");
  for (const auto& c : crit_value->as_array()) {
    if (!c.is_string()) return invalid_input("JWS envelope: \"crit\" entries must be strings");
    crit.emplace_back(c.as_string());
  }

  auto* unprotected = top.if_contains("header");
  if (!unprotected || !unprotected->is_object()) return invalid_input("JWS envelope: \"header\" must be an object");
  const auto& uh = unprotected->as_object();
  auto* x5c = uh.if_contains("x5c");
  if (!x5c || !x5c->is_array()) return invalid_input("JWS envelope: \"header.x5c\" must be an array");
  if (x5c->as_array().size() > limits.max_certificates)
    return invalid_input(fmt::format("JWS envelope: more than {} certificates", limits.max_certificates));
  for (size_t i = 0; i < x5c->as_array().size(); ++i) {
    const auto& c = x5c->as_array()[i];
    auto der = c.is_string() ? base64_decode(c.as_string()) : Result<Bytes>(invalid_input(""));
    if (!der.ok()) return invalid_input(fmt::format("JWS envelope: x5c[{}] is not base64", i));
    VOUCH_ASSIGN_OR_RETURN(auto cert, certificate_at(*der, i));
    env.chain.push_back(std::move(cert));
  }
  if (auto* ts = uh.if_contains(kTimestampSignature)) {
    auto der = ts->is_string() ? base64_decode(ts->as_string()) : Result<Bytes>(invalid_input(""));
    if (!der.ok()) return invalid_input(fmt::format("JWS envelope: \"{}\" is not base64", kTimestampSignature));
    env.timestamp_token = std::move(*der);
  }
  if (auto* agent = uh.if_contains(kSigningAgent)) {
    if (!agent->is_string()) return invalid_input(fmt::format("JWS envelope: \"{}\" must be a string", kSigningAgent));
    env.signing_agent = std::string(agent->as_string());
  }
  VOUCH_RETURN_IF_ERROR(check_headers(env, signing_time.has_value(), authentic_time.has_value(), crit,
                                      [&](std::string_view name) { return header.contains(name); }));
  return env;
}

Result<std::optional<UnixSeconds>> cose_time(const CborValue& map, std::string_view name) {
  const CborValue* v = map.find(name);
  if (!v) return std::optional<UnixSeconds>();
  if (v->type != CborValue::Type::kTag || v->tag != kEpochTimeTag || v->items.size() != 1 || !v->items[0].is_integer())
    return invalid_input(fmt::format("COSE envelope: \"{}\" must be an epoch time (tag 1, integer)", name));
  return std::optional<UnixSeconds>(v->items[0].integer);
}

Status read_x5chain(const CborValue& value, Envelope& env, const EnvelopeLimits& limits) {
  std::vector<const CborValue*> certs;
  if (value.is_bytes()) certs.push_back(&value);
  else if (value.type == CborValue::Type::kArray)
    for (const auto& c : value.items) certs.push_back(&c);
  else return invalid_input("COSE envelope: x5chain must be a byte string or an array of them");
  if (certs.size() > limits.max_certificates)
    return invalid_input(fmt::format("COSE envelope: more than {} certificates", limits.max_certificates));
  for (size_t i = 0; i < certs.size(); ++i) {
    if (!certs[i]->is_bytes()) return invalid_input(fmt::format("COSE envelope: x5chain[{}] is not a byte string", i));
    VOUCH_ASSIGN_OR_RETURN(auto cert, certificate_at(as_bytes(certs[i]->string), i));
    env.chain.push_back(std::move(cert));
  }
  return ok_status();
}

Bytes cose_sig_structure(std::string_view protected_bytes, std::string_view payload) {
  Bytes out;
  cbor_append_head(out, 4, 4);
  cbor_append_text(out, "Signature1");
  cbor_append_bytes(out, as_bytes(protected_bytes));
  cbor_append_bytes(out, {});
  cbor_append_bytes(out, as_bytes(payload));
  return out;
}

Result<Envelope> parse_cose(ByteView data, const EnvelopeLimits& limits) {
  VOUCH_ASSIGN_OR_RETURN(auto top, cbor_decode(data, {limits.max_bytes, 16, 4096}));
  if (top.type != CborValue::Type::kTag || top.tag != kCoseSign1Tag)
    return invalid_input("COSE envelope: not a COSE_Sign1_Tagged item (tag 18)");
  const CborValue& msg = top.items[0];
  if (msg.type != CborValue::Type::kArray || msg.items.size() != 4)
    return invalid_input("COSE envelope: COSE_Sign1 must be an array of four items");
  const auto& [protected_bstr, unprotected, payload, signature] =
      std::tie(msg.items[0], msg.items[1], msg.items[2], msg.items[3]);
  if (!protected_bstr.is_bytes() || protected_bstr.string.empty())
    return invalid_input("COSE envelope: protected headers must be a non-empty byte string");
  if (unprotected.type != CborValue::Type::kMap) return invalid_input("COSE envelope: unprotected headers must be a map");
  if (!payload.is_bytes()) return invalid_input("COSE envelope: the payload must be attached as a byte string");
  if (!signature.is_bytes()) return invalid_input("COSE envelope: the signature must be a byte string");

  auto decoded = cbor_decode(as_bytes(protected_bstr.string), {limits.max_bytes, 8, 256});
  if (!decoded.ok()) return invalid_input(fmt::format("COSE envelope: protected headers: {}", decoded.error().message));
  const CborValue& header = *decoded;
  if (header.type != CborValue::Type::kMap) return invalid_input("COSE envelope: protected headers are not a map");

  Envelope env;
  env.format = EnvelopeFormat::kCose;
  env.payload = payload.string;
  env.signature = to_bytes(signature.string);
  env.signing_input = cose_sig_structure(protected_bstr.string, payload.string);

  const CborValue* alg = header.find(kCoseAlg);
  if (!alg || !alg->is_integer()) return invalid_input("COSE envelope: protected header alg (1) must be an integer");
  VOUCH_ASSIGN_OR_RETURN(env.algorithm, algorithm_from_cose_id(alg->integer));
  const CborValue* cty = header.find(kCoseContentType);
  if (!cty || !cty->is_text()) return invalid_input("COSE envelope: protected header content type (3) must be text");
  env.content_type = cty->string;
  const CborValue* scheme = header.find(kSigningScheme);
  if (!scheme || !scheme->is_text()) return invalid_input(fmt::format("COSE envelope: \"{}\" must be text", kSigningScheme));
  VOUCH_ASSIGN_OR_RETURN(env.scheme, scheme_from_name(scheme->string));
  VOUCH_ASSIGN_OR_RETURN(auto signing_time, cose_time(header, kSigningTime));
  VOUCH_ASSIGN_OR_RETURN(auto authentic_time, cose_time(header, kAuthenticSigningTime));
  VOUCH_ASSIGN_OR_RETURN(env.expiry, cose_time(header, kExpiry));
  env.signing_time = env.scheme == SigningScheme::kX509 ? signing_time.value_or(0) : authentic_time.value_or(0);
  if (const CborValue* plugin = header.find(kVerificationPlugin)) {
    if (!plugin->is_text()) return invalid_input(fmt::format("COSE envelope: \"{}\" must be text", kVerificationPlugin));
    env.verification_plugin = plugin->string;
  }

  std::vector<std::string> crit;
  std::vector<int64_t> crit_labels;
  const CborValue* crit_value = header.find(kCoseCrit);
  if (!crit_value || crit_value->type != CborValue::Type::kArray || crit_value->items.empty())
    return invalid_input("COSE envelope: protected header crit (2) must be a non-empty array");
  for (const auto& c : crit_value->items) {
    if (c.is_text()) crit.push_back(c.string);
    else if (c.is_integer()) {
      if (c.integer >= 0 && c.integer <= 8)
        return invalid_input(fmt::format("COSE envelope: crit lists the standard label {}", c.integer));
      crit.push_back(std::to_string(c.integer));
      crit_labels.push_back(c.integer);
    } else {
      return invalid_input("COSE envelope: crit entries must be integers or text");
    }
  }

  if (const CborValue* chain = unprotected.find(kCoseX5Chain)) {
    VOUCH_RETURN_IF_ERROR(read_x5chain(*chain, env, limits));
  } else if (const CborValue* protected_chain = header.find(kCoseX5Chain)) {
    VOUCH_RETURN_IF_ERROR(read_x5chain(*protected_chain, env, limits));
  }
  if (const CborValue* ts = unprotected.find(kTimestampSignature)) {
    if (!ts->is_bytes()) return invalid_input(fmt::format("COSE envelope: \"{}\" must be a byte string", kTimestampSignature));
    env.timestamp_token = to_bytes(ts->string);
  }
  if (const CborValue* agent = unprotected.find(kSigningAgent)) {
    if (!agent->is_text()) return invalid_input(fmt::format("COSE envelope: \"{}\" must be text", kSigningAgent));
    env.signing_agent = agent->string;
  }
  VOUCH_RETURN_IF_ERROR(check_headers(env, signing_time.has_value(), authentic_time.has_value(), crit,
                                      [&](std::string_view name) {
                                        for (int64_t label : crit_labels)
                                          if (std::to_string(label) == name) return header.find(label) != nullptr;
                                        return header.find(name) != nullptr;
                                      }));
  return env;
}

Result<Bytes> ecdsa_raw_to_der(ByteView raw, size_t width) {
  if (raw.size() != 2 * width)
    return verification_failed(fmt::format("ECDSA signature is {} bytes, expected {}", raw.size(), 2 * width));
  std::unique_ptr<ECDSA_SIG, Free> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw.data(), static_cast<int>(width), nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + width, static_cast<int>(width), nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return internal_error("cannot build an ECDSA signature");
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return internal_error("cannot encode an ECDSA signature");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

Result<Bytes> ecdsa_der_to_raw(ByteView der, size_t width) {
  const unsigned char* p = der.data();
  std::unique_ptr<ECDSA_SIG, Free> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return internal_error("signer returned a malformed ECDSA signature");
  Bytes out(2 * width);
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out.data(), static_cast<int>(width)) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out.data() + width, static_cast<int>(width)) < 0)
    return internal_error("ECDSA signature does not fit the curve");
  return out;
}

Result<Bytes> raw_sign(const crypto::PrivateKey& key, SignatureAlgorithm alg, ByteView message) {
  std::unique_ptr<EVP_MD_CTX, Free> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, evp_md(algorithm_hash(alg)), nullptr, key.get()) != 1)
    return internal_error(fmt::format("signing setup failed: {}", openssl_error()));
  if (is_rsa(alg) && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
                      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0))
    return internal_error(fmt::format("RSA-PSS setup failed: {}", openssl_error()));
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()) != 1)
    return internal_error(fmt::format("signing failed: {}", openssl_error()));
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1)
    return internal_error(fmt::format("signing failed: {}", openssl_error()));
  sig.resize(len);
  if (is_rsa(alg)) return sig;
  return ecdsa_der_to_raw(sig, ec_field_bytes(alg));
}

std::string rfc3339_utc(UnixSeconds t) {
  std::string s = format_rfc3339(t);
  return s;
}

}  // namespace

std::string_view envelope_media_type(EnvelopeFormat format) {
  return format == EnvelopeFormat::kJws ? kJwsMediaType : kCoseMediaType;
}

Result<EnvelopeFormat> envelope_format_from_media_type(std::string_view media_type) {
  if (media_type == kJwsMediaType) return EnvelopeFormat::kJws;
  if (media_type == kCoseMediaType) return EnvelopeFormat::kCose;
  return invalid_input(fmt::format("signature envelope format with media type \"{}\" is not supported", media_type));
}

Result<EnvelopeFormat> detect_envelope_format(ByteView data) {
  for (uint8_t c : data) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '{') return EnvelopeFormat::kJws;
    break;
  }
  if (!data.empty() && (data[0] == 0xd2 || (data[0] >> 5) == 4)) return EnvelopeFormat::kCose;
  return invalid_input("neither a JWS (JSON) nor a COSE_Sign1 (CBOR) envelope");
}

std::string_view algorithm_name(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::kPs256: return "PS256";
    case SignatureAlgorithm::kPs384: return "PS384";
    case SignatureAlgorithm::kPs512: return "PS512";
    case SignatureAlgorithm::kEs256: return "ES256";
    case SignatureAlgorithm::kEs384: return "ES384";
    case SignatureAlgorithm::kEs512: return "ES512";
  }
  return "?";
}

Result<SignatureAlgorithm> algorithm_for_key(const crypto::PublicKey& key) {
  switch (key.type()) {
    case crypto::KeyType::kEcdsaP256: return SignatureAlgorithm::kEs256;
    case crypto::KeyType::kEcdsaP384: return SignatureAlgorithm::kEs384;
    case crypto::KeyType::kEcdsaP521: return SignatureAlgorithm::kEs512;
    case crypto::KeyType::kRsa:
      if (key.bits() == 2048) return SignatureAlgorithm::kPs256;
      if (key.bits() == 3072) return SignatureAlgorithm::kPs384;
      if (key.bits() == 4096) return SignatureAlgorithm::kPs512;
      return invalid_input(fmt::format("RSA keys of {} bits are not supported (2048, 3072 or 4096)", key.bits()));
    default:
      return invalid_input(fmt::format("{} keys are not supported", crypto::key_type_name(key.type())));
  }
}

std::string_view signing_scheme_name(SigningScheme scheme) {
  return scheme == SigningScheme::kX509 ? "notary.x509" : "notary.x509.signingAuthority";
}

Result<Envelope> parse_envelope(ByteView data, EnvelopeFormat format, EnvelopeLimits limits) {
  if (data.size() > limits.max_bytes)
    return invalid_input(fmt::format("signature envelope of {} bytes exceeds the limit of {}", data.size(), limits.max_bytes));
  return format == EnvelopeFormat::kJws ? parse_jws(data, limits) : parse_cose(data, limits);
}

Status verify_envelope_signature(const Envelope& env) {
  if (env.chain.empty()) return verification_failed("the envelope carries no signing certificate");
  crypto::PublicKey key = env.chain[0].public_key();
  auto expected = algorithm_for_key(key);
  if (!expected.ok()) return verification_failed(fmt::format("signing certificate: {}", expected.error().message));
  if (*expected != env.algorithm)
    return verification_failed(fmt::format("signature algorithm {} does not match the signing certificate's key, which requires {}",
                                           algorithm_name(env.algorithm), algorithm_name(*expected)));
  Bytes signature = env.signature;
  if (!is_rsa(env.algorithm)) {
    VOUCH_ASSIGN_OR_RETURN(signature, ecdsa_raw_to_der(env.signature, ec_field_bytes(env.algorithm)));
  }
  std::unique_ptr<EVP_MD_CTX, Free> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, evp_md(algorithm_hash(env.algorithm)), nullptr, key.get()) != 1)
    return internal_error(fmt::format("verification setup failed: {}", openssl_error()));
  if (is_rsa(env.algorithm) && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
                                EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0))
    return internal_error(fmt::format("RSA-PSS setup failed: {}", openssl_error()));
  int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), env.signing_input.data(),
                            env.signing_input.size());
  ERR_clear_error();
  if (rc != 1)
    return verification_failed(fmt::format("the {} signature does not verify with the signing certificate \"{}\"",
                                           algorithm_name(env.algorithm), env.chain[0].subject()));
  return ok_status();
}

Result<TargetArtifact> parse_payload(std::string_view payload) {
  auto doc = json::parse(payload, {1024 * 1024, 16});
  if (!doc.ok() || !doc->is_object()) return invalid_input("payload: not a JSON object");
  auto* target = doc->as_object().if_contains("targetArtifact");
  if (!target || !target->is_object()) return invalid_input("payload: \"targetArtifact\" must be an object");
  const auto& t = target->as_object();
  TargetArtifact out;
  auto* media_type = t.if_contains("mediaType");
  auto* digest = t.if_contains("digest");
  auto* size = t.if_contains("size");
  if (!media_type || !media_type->is_string() || media_type->as_string().empty())
    return invalid_input("payload: targetArtifact.mediaType must be a non-empty string");
  if (!digest || !digest->is_string()) return invalid_input("payload: targetArtifact.digest must be a string");
  if (!size || !(size->is_int64() || size->is_uint64())) return invalid_input("payload: targetArtifact.size must be an integer");
  out.media_type = std::string(media_type->as_string());
  out.digest = std::string(digest->as_string());
  auto colon = out.digest.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == out.digest.size())
    return invalid_input(fmt::format("payload: targetArtifact.digest \"{}\" is not ALGORITHM:HEX", out.digest));
  if (size->is_int64()) out.size = size->as_int64();
  else if (size->as_uint64() > static_cast<uint64_t>(INT64_MAX)) return invalid_input("payload: targetArtifact.size is too large");
  else out.size = static_cast<int64_t>(size->as_uint64());
  if (out.size < 0) return invalid_input("payload: targetArtifact.size is negative");
  if (auto* annotations = t.if_contains("annotations")) {
    if (!annotations->is_object()) return invalid_input("payload: targetArtifact.annotations must be an object");
    for (const auto& [k, v] : annotations->as_object()) {
      if (!v.is_string()) return invalid_input(fmt::format("payload: annotation \"{}\" must be a string", std::string(k)));
      out.annotations[std::string(k)] = std::string(v.as_string());
    }
  }
  if (auto* artifact_type = t.if_contains("artifactType")) {
    if (!artifact_type->is_string()) return invalid_input("payload: targetArtifact.artifactType must be a string");
    out.artifact_type = std::string(artifact_type->as_string());
  }
  return out;
}

std::string payload_json(const TargetArtifact& target) {
  bj::object t;
  t["mediaType"] = target.media_type;
  t["digest"] = target.digest;
  t["size"] = target.size;
  if (!target.annotations.empty()) {
    bj::object a;
    for (const auto& [k, v] : target.annotations) a[k] = v;
    t["annotations"] = std::move(a);
  }
  if (!target.artifact_type.empty()) t["artifactType"] = target.artifact_type;
  bj::object doc;
  doc["targetArtifact"] = std::move(t);
  return json::serialize(doc);
}

bool same_artifact(const TargetArtifact& signed_target, const TargetArtifact& artifact) {
  return signed_target.media_type == artifact.media_type && signed_target.digest == artifact.digest &&
         signed_target.size == artifact.size;
}

Result<Bytes> sign_envelope(const TargetArtifact& target, const crypto::PrivateKey& key,
                            const std::vector<crypto::Certificate>& chain, const SignOptions& options) {
  if (chain.empty()) return invalid_input("signing needs the certificate chain of the key");
  if (!chain[0].public_key().equals(key.public_key()))
    return invalid_input("the first certificate of the chain is not the signing key's");
  VOUCH_ASSIGN_OR_RETURN(auto alg, algorithm_for_key(key.public_key()));
  const std::string payload = payload_json(target);
  const std::string signing_time = rfc3339_utc(options.signing_time);
  const bool authority = options.scheme == SigningScheme::kX509SigningAuthority;

  if (options.format == EnvelopeFormat::kJws) {
    bj::object header;
    header["alg"] = algorithm_name(alg);
    bj::array crit{bj::string(kSigningScheme)};
    if (authority) crit.emplace_back(kAuthenticSigningTime);
    if (options.expiry) crit.emplace_back(kExpiry);
    header["crit"] = std::move(crit);
    header["cty"] = kPayloadMediaType;
    header[kSigningScheme] = signing_scheme_name(options.scheme);
    header[authority ? kAuthenticSigningTime : kSigningTime] = signing_time;
    if (options.expiry) header[kExpiry] = rfc3339_utc(*options.expiry);
    const std::string protected_b64 = base64url_encode(as_bytes(json::serialize(header)));
    const std::string payload_b64 = base64url_encode(as_bytes(payload));
    VOUCH_ASSIGN_OR_RETURN(auto signature, raw_sign(key, alg, as_bytes(protected_b64 + "." + payload_b64)));
    bj::object unprotected;
    if (options.timestamper) {
      VOUCH_ASSIGN_OR_RETURN(auto token, options.timestamper(signature));
      unprotected[kTimestampSignature] = base64_encode(token);
    }
    bj::array x5c;
    for (const auto& c : chain) x5c.emplace_back(base64_encode(c.der()));
    unprotected["x5c"] = std::move(x5c);
    unprotected[kSigningAgent] = options.signing_agent;
    bj::object env;
    env["payload"] = payload_b64;
    env["protected"] = protected_b64;
    env["header"] = std::move(unprotected);
    env["signature"] = base64url_encode(signature);
    return to_bytes(json::serialize(env));
  }

  Bytes header;
  cbor_append_head(header, 5, options.expiry ? 6 : 5);
  cbor_append_int(header, kCoseAlg);
  cbor_append_int(header, cose_algorithm_id(alg));
  cbor_append_int(header, kCoseCrit);
  cbor_append_head(header, 4, 1 + (options.expiry ? 1 : 0) + (authority ? 1 : 0));
  cbor_append_text(header, kSigningScheme);
  if (authority) cbor_append_text(header, kAuthenticSigningTime);
  if (options.expiry) cbor_append_text(header, kExpiry);
  cbor_append_int(header, kCoseContentType);
  cbor_append_text(header, kPayloadMediaType);
  cbor_append_text(header, kSigningScheme);
  cbor_append_text(header, signing_scheme_name(options.scheme));
  cbor_append_text(header, authority ? kAuthenticSigningTime : kSigningTime);
  cbor_append_head(header, 6, kEpochTimeTag);
  cbor_append_int(header, options.signing_time);
  if (options.expiry) {
    cbor_append_text(header, kExpiry);
    cbor_append_head(header, 6, kEpochTimeTag);
    cbor_append_int(header, *options.expiry);
  }
  const std::string protected_bytes = to_string(header);
  VOUCH_ASSIGN_OR_RETURN(auto signature, raw_sign(key, alg, cose_sig_structure(protected_bytes, payload)));
  std::optional<Bytes> token;
  if (options.timestamper) {
    VOUCH_ASSIGN_OR_RETURN(token, options.timestamper(signature));
  }
  Bytes out;
  cbor_append_head(out, 6, kCoseSign1Tag);
  cbor_append_head(out, 4, 4);
  cbor_append_bytes(out, header);
  cbor_append_head(out, 5, token ? 3 : 2);
  cbor_append_int(out, kCoseX5Chain);
  cbor_append_head(out, 4, chain.size());
  for (const auto& c : chain) cbor_append_bytes(out, c.der());
  if (token) {
    cbor_append_text(out, kTimestampSignature);
    cbor_append_bytes(out, *token);
  }
  cbor_append_text(out, kSigningAgent);
  cbor_append_text(out, options.signing_agent);
  cbor_append_bytes(out, as_bytes(payload));
  cbor_append_bytes(out, signature);
  return out;
}

std::string chain_thumbprints(const std::vector<crypto::Certificate>& chain) {
  bj::array out;
  for (const auto& c : chain) out.emplace_back(hex_encode(crypto::sha256(c.der())));
  return json::serialize(out);
}

namespace {

// One DER TLV at `pos`: sets the content's bounds and returns the position after it.
Result<size_t> der_element(ByteView der, size_t pos, uint8_t expected_tag, size_t& content, size_t& length) {
  if (pos + 2 > der.size() || der[pos] != expected_tag) return invalid_input("timestamp: malformed DER");
  size_t p = pos + 1;
  size_t len = der[p++];
  if (len & 0x80) {
    size_t n = len & 0x7f;
    if (n == 0 || n > 4 || p + n > der.size()) return invalid_input("timestamp: malformed DER length");
    len = 0;
    for (size_t i = 0; i < n; ++i) len = (len << 8) | der[p++];
  }
  if (len > der.size() - p) return invalid_input("timestamp: DER length beyond the data");
  content = p;
  length = len;
  return p + len;
}

void der_append_length(Bytes& out, size_t len) {
  if (len < 0x80) {
    out.push_back(static_cast<uint8_t>(len));
    return;
  }
  Bytes be;
  for (size_t l = len; l; l >>= 8) be.insert(be.begin(), static_cast<uint8_t>(l & 0xff));
  out.push_back(static_cast<uint8_t>(0x80 | be.size()));
  out.insert(out.end(), be.begin(), be.end());
}

}  // namespace

Result<Bytes> timestamp_token_from_response(ByteView der) {
  size_t content = 0, length = 0;
  VOUCH_ASSIGN_OR_RETURN(size_t end, der_element(der, 0, 0x30, content, length));
  if (end != der.size()) return invalid_input("timestamp response: trailing data");
  size_t status_content = 0, status_length = 0;
  VOUCH_ASSIGN_OR_RETURN(size_t after_status, der_element(der, content, 0x30, status_content, status_length));
  size_t int_content = 0, int_length = 0;
  VOUCH_RETURN_IF_ERROR(der_element(der, status_content, 0x02, int_content, int_length));
  if (int_length != 1 || der[int_content] > 1)
    return verification_failed("timestamp response: the timestamp authority did not grant the request");
  if (after_status >= content + length) return invalid_input("timestamp response: granted but carries no token");
  size_t token_content = 0, token_length = 0;
  VOUCH_ASSIGN_OR_RETURN(size_t token_end, der_element(der, after_status, 0x30, token_content, token_length));
  if (token_end != content + length) return invalid_input("timestamp response: trailing data after the token");
  return Bytes(der.begin() + static_cast<std::ptrdiff_t>(after_status), der.begin() + static_cast<std::ptrdiff_t>(token_end));
}

Bytes timestamp_response_from_token(ByteView token) {
  static constexpr uint8_t kGranted[] = {0x30, 0x03, 0x02, 0x01, 0x00};
  Bytes out{0x30};
  der_append_length(out, sizeof kGranted + token.size());
  out.insert(out.end(), std::begin(kGranted), std::end(kGranted));
  out.insert(out.end(), token.begin(), token.end());
  return out;
}

}  // namespace vouch::notation
