#include "vouch/crypto/jose.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <array>

#include "openssl_util.h"
#include "vouch/base/json.h"

namespace vouch::crypto {
namespace {

struct JoseFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
using BnPtr = std::unique_ptr<BIGNUM, JoseFree>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, JoseFree>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, JoseFree>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, JoseFree>;

constexpr std::array kAlgorithms = {
    JwsAlgorithm::kRs256, JwsAlgorithm::kRs384, JwsAlgorithm::kRs512, JwsAlgorithm::kPs256, JwsAlgorithm::kPs384,
    JwsAlgorithm::kPs512, JwsAlgorithm::kEs256, JwsAlgorithm::kEs384, JwsAlgorithm::kEs512, JwsAlgorithm::kEdDsa,
};

// Members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
constexpr std::array<std::string_view, 8> kPrivateMembers = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

constexpr size_t kMaxAlgNameInMessage = 32;
constexpr unsigned kMaxJsonDepth = 16;

// An attacker-chosen name, shortened so that it cannot flood an error message.
std::string shortened(std::string_view name) {
  if (name.size() <= kMaxAlgNameInMessage) return std::string(name);
  return fmt::format("{}...", name.substr(0, kMaxAlgNameInMessage));
}

HashAlgorithm jws_hash(JwsAlgorithm alg) {
  switch (alg) {
    case JwsAlgorithm::kRs384:
    case JwsAlgorithm::kPs384:
    case JwsAlgorithm::kEs384: return HashAlgorithm::kSha384;
    case JwsAlgorithm::kRs512:
    case JwsAlgorithm::kPs512:
    case JwsAlgorithm::kEs512: return HashAlgorithm::kSha512;
    default: return HashAlgorithm::kSha256;
  }
}

bool is_pss(JwsAlgorithm alg) {
  return alg == JwsAlgorithm::kPs256 || alg == JwsAlgorithm::kPs384 || alg == JwsAlgorithm::kPs512;
}

// Bytes of one coordinate (and of r and s) on the curve of an ECDSA key type; 0 for others.
size_t ec_field_size(KeyType type) {
  switch (type) {
    case KeyType::kEcdsaP256: return 32;
    case KeyType::kEcdsaP384: return 48;
    case KeyType::kEcdsaP521: return 66;
    default: return 0;
  }
}

std::string_view jwk_curve_name(KeyType type) {
  switch (type) {
    case KeyType::kEcdsaP256: return "P-256";
    case KeyType::kEcdsaP384: return "P-384";
    case KeyType::kEcdsaP521: return "P-521";
    case KeyType::kEd25519: return "Ed25519";
    default: return "";
  }
}

// RFC 7515 §2: base64url with all trailing '=' omitted. The decoder of base/bytes.h is strict
// about the alphabet, whitespace and trailing bits but tolerates padding, which JOSE forbids.
Result<Bytes> decode_base64url(std::string_view text) {
  if (text.find('=') != std::string_view::npos) return invalid_input("padding '=' is not allowed in base64url");
  return base64url_decode(text);
}

BnPtr bn_from_bytes(ByteView bytes) {
  return BnPtr(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
}

Bytes bn_to_bytes(const BIGNUM* bn, size_t width = 0) {
  size_t size = width != 0 ? width : static_cast<size_t>(BN_num_bytes(bn));
  Bytes out(size);
  if (BN_bn2binpad(bn, out.data(), static_cast<int>(size)) < 0) return {};
  return out;
}

Bytes bn_param(EVP_PKEY* pkey, const char* name, size_t width = 0) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) {
    ERR_clear_error();
    return {};
  }
  BnPtr bn(raw);
  return bn_to_bytes(bn.get(), width);
}

// The public members of `key` in the order RFC 7638 §3.2 sorts them (which is also how they are
// written): RSA e, kty, n; EC crv, kty, x, y; OKP crv, kty, x.
std::vector<std::pair<std::string_view, std::string>> public_members(const PublicKey& key) {
  std::vector<std::pair<std::string_view, std::string>> members;
  switch (key.type()) {
    case KeyType::kRsa:
      members.emplace_back("e", base64url_encode(bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E)));
      members.emplace_back("kty", "RSA");
      members.emplace_back("n", base64url_encode(bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N)));
      break;
    case KeyType::kEcdsaP256:
    case KeyType::kEcdsaP384:
    case KeyType::kEcdsaP521: {
      size_t width = ec_field_size(key.type());
      members.emplace_back("crv", jwk_curve_name(key.type()));
      members.emplace_back("kty", "EC");
      members.emplace_back("x", base64url_encode(bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_X, width)));
      members.emplace_back("y", base64url_encode(bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, width)));
      break;
    }
    case KeyType::kEd25519:
      members.emplace_back("crv", "Ed25519");
      members.emplace_back("kty", "OKP");
      members.emplace_back("x", base64url_encode(key.raw_ed25519()));
      break;
  }
  return members;
}

// ---- JWK members to keys ----

// Why a JWK could not be used: malformed (an error in a JWK Set too) or of a kind vouch does not
// know (skipped in a JWK Set).
struct JwkError {
  Error error;
  bool unsupported = false;
};

Result<Bytes> member_bytes(const boost::json::object& jwk, std::string_view name) {
  auto it = jwk.find(name);
  if (it == jwk.end()) return invalid_input(fmt::format("member \"{}\" is missing", name));
  if (!it->value().is_string()) return invalid_input(fmt::format("member \"{}\" is not a string", name));
  auto decoded = decode_base64url(it->value().get_string());
  if (!decoded.ok()) return invalid_input(fmt::format("member \"{}\": {}", name, decoded.error().message));
  return std::move(decoded).value();
}

Result<std::optional<std::string>> optional_string(const boost::json::object& jwk, std::string_view name) {
  auto it = jwk.find(name);
  if (it == jwk.end()) return std::optional<std::string>();
  if (!it->value().is_string()) return invalid_input(fmt::format("member \"{}\" is not a string", name));
  return std::optional<std::string>(std::string(it->value().get_string()));
}

ByteView without_leading_zeros(const Bytes& bytes) {
  size_t i = 0;
  while (i < bytes.size() && bytes[i] == 0) ++i;
  return ByteView(bytes).subspan(i);
}

Result<PublicKey> key_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1)
    return internal_error(fmt::format("cannot build a {} key: {}", type, openssl_error()));
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 || !pkey)
    return invalid_input(fmt::format("not a valid {} public key: {}", type, openssl_error()));
  return PublicKey::adopt(pkey);
}

Result<PublicKey> rsa_key(const boost::json::object& jwk) {
  VOUCH_ASSIGN_OR_RETURN(Bytes n_bytes, member_bytes(jwk, "n"));
  VOUCH_ASSIGN_OR_RETURN(Bytes e_bytes, member_bytes(jwk, "e"));
  // Leading zero octets do not change the value; go-jose accepts them, and so do some issuers.
  ByteView n = without_leading_zeros(n_bytes);
  ByteView e = without_leading_zeros(e_bytes);
  if (n.size() > 1024) return invalid_input(fmt::format("RSA key of {} bits is too large (maximum 8192)", n.size() * 8));
  if (n.empty() || (n.back() & 1) == 0) return invalid_input("RSA modulus \"n\" is not an odd number");
  // As Go's crypto/rsa: an odd exponent from 3 to 2^31-1.
  if (e.empty() || e.size() > 4 || (e.size() == 4 && e[0] >= 0x80) || (e.back() & 1) == 0 ||
      (e.size() == 1 && e[0] < 3))
    return invalid_input("RSA exponent \"e\" must be odd and from 3 to 2^31-1");
  BnPtr n_bn = bn_from_bytes(n);
  BnPtr e_bn = bn_from_bytes(e);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!n_bn || !e_bn || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) != 1)
    return internal_error(fmt::format("cannot build an RSA key: {}", openssl_error()));
  return key_from_params("RSA", bld.get());
}

Result<PublicKey> ec_key(const boost::json::object& jwk, KeyType type) {
  size_t width = ec_field_size(type);
  VOUCH_ASSIGN_OR_RETURN(Bytes x, member_bytes(jwk, "x"));
  VOUCH_ASSIGN_OR_RETURN(Bytes y, member_bytes(jwk, "y"));
  // RFC 7518 §6.2.1.2: the full coordinate size, no more and no less.
  if (x.size() != width || y.size() != width)
    return invalid_input(fmt::format("{} coordinates must be {} bytes each (x has {}, y has {})", jwk_curve_name(type),
                                     width, x.size(), y.size()));
  Bytes point;
  point.reserve(1 + 2 * width);
  point.push_back(0x04);  // SEC 1 uncompressed point
  point.insert(point.end(), x.begin(), x.end());
  point.insert(point.end(), y.begin(), y.end());
  std::string group(jwk_curve_name(type));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group.c_str(), 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
    return internal_error(fmt::format("cannot build an EC key: {}", openssl_error()));
  auto key = key_from_params("EC", bld.get());
  if (!key.ok() && key.error().code == ErrorCode::kInvalidInput)
    return invalid_input(fmt::format("{} point is not on the curve", jwk_curve_name(type)));
  if (!key.ok()) return key;
  // Explicitly, whatever the import checked: on the curve, coordinates in range, not the identity.
  EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return invalid_input(fmt::format("{} point is not on the curve", jwk_curve_name(type)));
  }
  return key;
}

Result<PublicKey> okp_key(const boost::json::object& jwk) {
  VOUCH_ASSIGN_OR_RETURN(Bytes x, member_bytes(jwk, "x"));
  if (x.size() != 32) return invalid_input(fmt::format("Ed25519 \"x\" must be 32 bytes, not {}", x.size()));
  return PublicKey::from_raw_ed25519(x);
}

Result<Jwk> parse_jwk_object(const boost::json::value& value, JwkError& why) {
  auto fail = [&](Error error, bool unsupported = false) -> Error {
    why.unsupported = unsupported;
    return error.context("JWK");
  };
  if (!value.is_object()) return fail(invalid_input("expected an object"));
  const auto& jwk = value.get_object();
  auto kty_it = jwk.find("kty");
  if (kty_it == jwk.end()) return fail(invalid_input("member \"kty\" is missing"));
  if (!kty_it->value().is_string()) return fail(invalid_input("member \"kty\" is not a string"));
  std::string_view kty = kty_it->value().get_string();
  if (kty == "oct") return fail(invalid_input("symmetric keys (kty \"oct\") are not accepted"));
  if (kty != "RSA" && kty != "EC" && kty != "OKP")
    return fail(invalid_input(fmt::format("unsupported key type \"{}\"", shortened(kty))), true);
  for (std::string_view member : kPrivateMembers) {
    if (jwk.contains(member))
      return fail(invalid_input(fmt::format("private member \"{}\" is not accepted in a public key", member)));
  }

  auto crv = optional_string(jwk, "crv");
  if (!crv.ok()) return fail(std::move(crv).error());
  std::optional<KeyType> type;
  if (kty == "RSA") {
    type = KeyType::kRsa;
  } else if (!crv->has_value()) {
    return fail(invalid_input("member \"crv\" is missing"));
  } else if (kty == "EC") {
    if (**crv == "P-256") type = KeyType::kEcdsaP256;
    if (**crv == "P-384") type = KeyType::kEcdsaP384;
    if (**crv == "P-521") type = KeyType::kEcdsaP521;
  } else if (**crv == "Ed25519") {
    type = KeyType::kEd25519;
  }
  if (!type) return fail(invalid_input(fmt::format("unsupported {} curve \"{}\"", kty, shortened(**crv))), true);
  auto key = *type == KeyType::kRsa ? rsa_key(jwk) : *type == KeyType::kEd25519 ? okp_key(jwk) : ec_key(jwk, *type);
  if (!key.ok()) return fail(std::move(key).error());

  Jwk out{std::move(key).value(), {}, {}, {}};
  auto kid = optional_string(jwk, "kid");
  auto alg = optional_string(jwk, "alg");
  auto use = optional_string(jwk, "use");
  if (!kid.ok()) return fail(std::move(kid).error());
  if (!alg.ok()) return fail(std::move(alg).error());
  if (!use.ok()) return fail(std::move(use).error());
  out.kid = kid->value_or("");
  out.alg = std::move(*alg);
  out.use = std::move(*use);
  if (out.alg) {
    const std::string& name = *out.alg;
    if (name == "none" || name == "HS256" || name == "HS384" || name == "HS512")
      return fail(invalid_input(fmt::format("alg {} is not accepted for a public key", name)));
    auto accepted = parse_jws_algorithm(name);
    if (accepted.ok() && !jws_algorithm_fits(*accepted, out.key.type()))
      return fail(invalid_input(
          fmt::format("alg {} does not fit an {} key", shortened(name), key_type_name(out.key.type()))));
  }
  return out;
}

// ---- signatures ----

std::string describe_key(std::string_view key_name, const PublicKey& key) {
  if (key_name.empty()) return fmt::format("the {} key", key_type_name(key.type()));
  return fmt::format("key {} ({})", key_name, key_type_name(key.type()));
}

// r||s of `width` bytes each, as ASN.1 DER ECDSA-Sig-Value.
Result<Bytes> ecdsa_raw_to_der(ByteView raw, size_t width) {
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BnPtr r = bn_from_bytes(raw.first(width));
  BnPtr s = bn_from_bytes(raw.subspan(width, width));
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1)
    return internal_error(fmt::format("cannot build an ECDSA signature: {}", openssl_error()));
  r.release();  // owned by sig now
  s.release();
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return internal_error(fmt::format("cannot encode an ECDSA signature: {}", openssl_error()));
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

Result<Bytes> ecdsa_der_to_raw(ByteView der, size_t width) {
  const unsigned char* p = der.data();
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig || p != der.data() + der.size())
    return internal_error(fmt::format("cannot decode an ECDSA signature: {}", openssl_error()));
  const BIGNUM* r = ECDSA_SIG_get0_r(sig.get());
  const BIGNUM* s = ECDSA_SIG_get0_s(sig.get());
  if (static_cast<size_t>(BN_num_bytes(r)) > width || static_cast<size_t>(BN_num_bytes(s)) > width)
    return internal_error("ECDSA signature values exceed the curve size");
  Bytes out = bn_to_bytes(r, width);
  Bytes s_bytes = bn_to_bytes(s, width);
  out.insert(out.end(), s_bytes.begin(), s_bytes.end());
  return out;
}

// RFC 7518 §3.5: MGF1 with the signature's hash and a salt as long as the hash.
Result<Bytes> sign_pss(const PrivateKey& key, ByteView message, HashAlgorithm hash) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, evp_md(hash), nullptr, key.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, evp_md(hash)) <= 0)
    return internal_error(fmt::format("RSA-PSS signing setup failed: {}", openssl_error()));
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()) != 1)
    return internal_error(fmt::format("RSA-PSS signing failed: {}", openssl_error()));
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1)
    return internal_error(fmt::format("RSA-PSS signing failed: {}", openssl_error()));
  sig.resize(len);
  return sig;
}

Result<Bytes> sign_input(const PrivateKey& key, JwsAlgorithm alg, std::string_view input) {
  HashAlgorithm hash = jws_hash(alg);
  if (is_pss(alg)) return sign_pss(key, as_bytes(input), hash);
  VOUCH_ASSIGN_OR_RETURN(Bytes sig, key.sign(as_bytes(input), hash));
  size_t width = ec_field_size(key.type());
  if (width != 0) return ecdsa_der_to_raw(sig, width);
  return sig;
}

}  // namespace

std::string_view jws_algorithm_name(JwsAlgorithm alg) {
  switch (alg) {
    case JwsAlgorithm::kRs256: return "RS256";
    case JwsAlgorithm::kRs384: return "RS384";
    case JwsAlgorithm::kRs512: return "RS512";
    case JwsAlgorithm::kPs256: return "PS256";
    case JwsAlgorithm::kPs384: return "PS384";
    case JwsAlgorithm::kPs512: return "PS512";
    case JwsAlgorithm::kEs256: return "ES256";
    case JwsAlgorithm::kEs384: return "ES384";
    case JwsAlgorithm::kEs512: return "ES512";
    case JwsAlgorithm::kEdDsa: return "EdDSA";
  }
  return "unknown";
}

Result<JwsAlgorithm> parse_jws_algorithm(std::string_view name) {
  for (JwsAlgorithm alg : kAlgorithms) {
    if (jws_algorithm_name(alg) == name) return alg;
  }
  return verification_failed(fmt::format("JWS algorithm {} is not accepted", shortened(name)));
}

bool jws_algorithm_fits(JwsAlgorithm alg, KeyType type) {
  switch (alg) {
    case JwsAlgorithm::kRs256:
    case JwsAlgorithm::kRs384:
    case JwsAlgorithm::kRs512:
    case JwsAlgorithm::kPs256:
    case JwsAlgorithm::kPs384:
    case JwsAlgorithm::kPs512: return type == KeyType::kRsa;
    case JwsAlgorithm::kEs256: return type == KeyType::kEcdsaP256;
    case JwsAlgorithm::kEs384: return type == KeyType::kEcdsaP384;
    case JwsAlgorithm::kEs512: return type == KeyType::kEcdsaP521;
    case JwsAlgorithm::kEdDsa: return type == KeyType::kEd25519;
  }
  return false;
}

JwsAlgorithm default_jws_algorithm(KeyType type) {
  switch (type) {
    case KeyType::kEcdsaP256: return JwsAlgorithm::kEs256;
    case KeyType::kEcdsaP384: return JwsAlgorithm::kEs384;
    case KeyType::kEcdsaP521: return JwsAlgorithm::kEs512;
    case KeyType::kRsa: return JwsAlgorithm::kRs256;
    case KeyType::kEd25519: return JwsAlgorithm::kEdDsa;
  }
  return JwsAlgorithm::kEs256;
}

Result<Jwk> parse_jwk(const boost::json::value& jwk) {
  JwkError why;
  return parse_jwk_object(jwk, why);
}

boost::json::object jwk_from_public_key(const PublicKey& key, std::string_view kid, std::optional<JwsAlgorithm> alg) {
  boost::json::object out;
  // kty first, as people write JWKs; the rest in RFC 7638 order.
  auto members = public_members(key);
  for (const auto& [name, value] : members) {
    if (name == "kty") out[name] = value;
  }
  for (const auto& [name, value] : members) {
    if (name != "kty") out[name] = value;
  }
  if (!kid.empty()) out["kid"] = kid;
  out["use"] = "sig";
  if (alg) out["alg"] = jws_algorithm_name(*alg);
  return out;
}

std::string jwk_thumbprint(const PublicKey& key) {
  // RFC 7638 §3.3: no whitespace, members sorted, and base64url values need no JSON escaping.
  std::string canonical = "{";
  for (const auto& [name, value] : public_members(key)) {
    if (canonical.size() > 1) canonical += ',';
    canonical += fmt::format("\"{}\":\"{}\"", name, value);
  }
  canonical += '}';
  return base64url_encode(sha256(canonical));
}

const Jwk* JwkSet::find(std::string_view kid) const {
  for (const auto& key : keys) {
    if (key.kid == kid) return &key;
  }
  return nullptr;
}

Result<JwkSet> parse_jwk_set(std::string_view text, JwkSetLimits limits) {
  if (text.size() > limits.max_bytes)
    return invalid_input(
        fmt::format("JWK Set of {} bytes exceeds the limit of {} bytes", text.size(), limits.max_bytes));
  auto parsed = json::parse(text, {limits.max_bytes, kMaxJsonDepth});
  if (!parsed.ok()) return std::move(parsed).error().context("JWK Set");
  if (!parsed->is_object()) return invalid_input("JWK Set: expected an object");
  const auto& root = parsed->get_object();
  auto keys_it = root.find("keys");
  if (keys_it == root.end()) return invalid_input("JWK Set: member \"keys\" is missing");
  if (!keys_it->value().is_array()) return invalid_input("JWK Set: member \"keys\" is not an array");
  const auto& keys = keys_it->value().get_array();
  if (keys.size() > limits.max_keys)
    return invalid_input(fmt::format("JWK Set: {} keys exceed the limit of {}", keys.size(), limits.max_keys));
  JwkSet set;
  for (size_t i = 0; i < keys.size(); ++i) {
    JwkError why;
    auto jwk = parse_jwk_object(keys[i], why);
    if (jwk.ok()) {
      set.keys.push_back(std::move(jwk).value());
    } else if (!why.unsupported) {
      return std::move(jwk).error().context(fmt::format("JWK Set: keys[{}]", i));
    }
  }
  return set;
}

Result<CompactJws> parse_compact_jws(std::string_view token, JwsLimits limits) {
  if (token.size() > limits.max_token_bytes)
    return invalid_input(
        fmt::format("JWS of {} bytes exceeds the limit of {} bytes", token.size(), limits.max_token_bytes));
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    size_t parts = 1;
    for (char c : token) parts += c == '.';
    return invalid_input(fmt::format("JWS: expected 3 parts separated by '.', found {}", parts));
  }
  std::string_view header_part = token.substr(0, first);
  std::string_view payload_part = token.substr(first + 1, second - first - 1);
  std::string_view signature_part = token.substr(second + 1);
  if (header_part.size() > limits.max_header_bytes)
    return invalid_input(fmt::format("JWS header of {} bytes exceeds the limit of {} bytes", header_part.size(),
                                     limits.max_header_bytes));

  auto header_bytes = decode_base64url(header_part);
  if (!header_bytes.ok()) return std::move(header_bytes).error().context("JWS header");
  auto payload = decode_base64url(payload_part);
  if (!payload.ok()) return std::move(payload).error().context("JWS payload");
  auto signature = decode_base64url(signature_part);
  if (!signature.ok()) return std::move(signature).error().context("JWS signature");

  auto header = json::parse(as_chars(*header_bytes), {limits.max_header_bytes, kMaxJsonDepth});
  if (!header.ok()) return std::move(header).error().context("JWS header");
  if (!header->is_object()) return invalid_input("JWS header: expected a JSON object");

  CompactJws jws;
  jws.header = std::move(header->get_object());
  auto alg = jws.header.find("alg");
  if (alg == jws.header.end()) return invalid_input("JWS header: \"alg\" is missing");
  if (!alg->value().is_string()) return invalid_input("JWS header: \"alg\" is not a string");
  jws.alg = std::string(alg->value().get_string());
  if (auto kid = jws.header.find("kid"); kid != jws.header.end()) {
    if (!kid->value().is_string()) return invalid_input("JWS header: \"kid\" is not a string");
    jws.kid = std::string(kid->value().get_string());
  }
  // RFC 7515 §4.1.11: a recipient must refuse extensions it does not understand, and vouch
  // understands none.
  if (jws.header.contains("crit")) return invalid_input("JWS header: \"crit\" extensions are not supported");
  // RFC 7797: an unencoded payload would change what the signature covers.
  if (auto b64 = jws.header.find("b64"); b64 != jws.header.end() && !(b64->value().is_bool() && b64->value().get_bool()))
    return invalid_input("JWS header: \"b64\": false (unencoded payload) is not supported");

  jws.signing_input = std::string(token.substr(0, second));
  jws.payload = to_string(*payload);
  jws.signature = std::move(signature).value();
  return jws;
}

Status verify_compact_jws(const CompactJws& jws, const PublicKey& key, std::string_view key_name,
                          std::optional<std::string_view> jwk_alg) {
  VOUCH_ASSIGN_OR_RETURN(JwsAlgorithm alg, parse_jws_algorithm(jws.alg));
  std::string_view name = jws_algorithm_name(alg);
  if (jwk_alg && *jwk_alg != name)
    return verification_failed(fmt::format("JWS algorithm {} does not match the alg {} of {}", name,
                                           shortened(*jwk_alg), describe_key(key_name, key)));
  if (!jws_algorithm_fits(alg, key.type()))
    return verification_failed(
        fmt::format("JWS algorithm {} does not fit {} (algorithm confusion)", name, describe_key(key_name, key)));

  HashAlgorithm hash = jws_hash(alg);
  ByteView input = as_bytes(jws.signing_input);
  Status status;
  if (size_t width = ec_field_size(key.type()); width != 0) {
    // RFC 7518 §3.4: exactly r||s, each as wide as the curve; DER or a shortened value is refused.
    if (jws.signature.size() != 2 * width)
      return verification_failed(fmt::format("JWS {} signature must be {} bytes of r||s, not {}", name, 2 * width,
                                             jws.signature.size()));
    VOUCH_ASSIGN_OR_RETURN(Bytes der, ecdsa_raw_to_der(jws.signature, width));
    status = key.verify(input, der, hash);
  } else if (key.type() == KeyType::kRsa) {
    size_t modulus = static_cast<size_t>(EVP_PKEY_get_size(key.get()));
    if (jws.signature.size() != modulus)
      return verification_failed(fmt::format("JWS {} signature must be {} bytes (the modulus size), not {}", name,
                                             modulus, jws.signature.size()));
    status = key.verify(input, jws.signature, hash, is_pss(alg) ? RsaPadding::kPss : RsaPadding::kPkcs1v15);
  } else {
    if (jws.signature.size() != 64)
      return verification_failed(fmt::format("JWS {} signature must be 64 bytes, not {}", name, jws.signature.size()));
    status = key.verify(input, jws.signature);
  }
  if (!status.ok()) {
    if (status.error().code != ErrorCode::kVerification) return status;
    return verification_failed(
        fmt::format("JWS {} signature does not verify with {}", name, describe_key(key_name, key)));
  }
  return ok_status();
}

Status verify_compact_jws(const CompactJws& jws, const Jwk& jwk) {
  std::string key_name = jwk.kid.empty() ? std::string() : fmt::format("\"{}\"", jwk.kid);
  if (jwk.use && *jwk.use == "enc")
    return verification_failed(
        fmt::format("{} is an encryption key (\"use\": \"enc\") and verifies no signature",
                    describe_key(key_name, jwk.key)));
  return verify_compact_jws(jws, jwk.key, key_name,
                            jwk.alg ? std::optional<std::string_view>(*jwk.alg) : std::nullopt);
}

Result<std::string> sign_compact_jws(const PrivateKey& key, JwsAlgorithm alg, std::string_view payload,
                                     std::string_view kid, std::string_view typ) {
  if (!jws_algorithm_fits(alg, key.type()))
    return invalid_input(
        fmt::format("JWS algorithm {} does not fit an {} key", jws_algorithm_name(alg), key_type_name(key.type())));
  boost::json::object header;
  header["alg"] = jws_algorithm_name(alg);
  if (!kid.empty()) header["kid"] = kid;
  if (!typ.empty()) header["typ"] = typ;
  std::string token = base64url_encode(as_bytes(json::serialize(header)));
  token += '.';
  token += base64url_encode(as_bytes(payload));
  VOUCH_ASSIGN_OR_RETURN(Bytes signature, sign_input(key, alg, token));
  token += '.';
  token += base64url_encode(signature);
  return token;
}

}  // namespace vouch::crypto
