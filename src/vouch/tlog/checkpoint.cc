#include "vouch/tlog/checkpoint.h"

#include <fmt/format.h>

#include "vouch/crypto/digest.h"
#include "vouch/tlog/merkle.h"

namespace vouch::tlog {
namespace {

constexpr std::string_view kSigPrefix = "\xE2\x80\x94 ";  // U+2014 EM DASH, space

// Decodes the UTF-8 sequence at s[i], advancing i. Returns -1 for anything that is not the
// shortest encoding of a Unicode scalar value (overlong forms, surrogates, > U+10FFFF, truncation).
int32_t next_code_point(std::string_view s, size_t& i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  size_t len = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  int32_t cp = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // no overlong forms
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return -1;
  }
  if (s.size() - i < len) return -1;
  for (size_t k = 1; k < len; ++k) {
    const uint8_t b = byte(i + k);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  i += len;
  return cp;
}

// Unicode White_Space (as Go's unicode.IsSpace, which signers use to validate key names).
bool is_unicode_space(int32_t cp) {
  switch (cp) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

// Signed notes and checkpoints are valid UTF-8 without ASCII control characters but newline.
Status check_note_characters(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t at = i;
    const int32_t cp = next_code_point(s, i);
    if (cp < 0) return invalid_input(fmt::format("invalid UTF-8 at byte {}", at));
    if (cp < 0x20 && cp != '\n') return invalid_input(fmt::format("control character 0x{:02x} at byte {}", cp, at));
  }
  return ok_status();
}

// A bounded, printable rendering of untrusted (already character-checked) text for messages.
std::string in_quotes(std::string_view s) {
  constexpr size_t kMax = 64;
  if (s.size() <= kMax) return fmt::format("'{}'", s);
  size_t cut = kMax;
  while (cut > 0 && (static_cast<uint8_t>(s[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
  return fmt::format("'{}…'", s.substr(0, cut));
}

std::string key_label(std::string_view name, uint32_t key_id) { return fmt::format("{}+{:08x}", name, key_id); }

uint32_t first_four_bytes(ByteView digest) {
  return (uint32_t{digest[0]} << 24) | (uint32_t{digest[1]} << 16) | (uint32_t{digest[2]} << 8) | digest[3];
}

Result<uint64_t> parse_tree_size(std::string_view s) {
  const auto bad = [&] {
    return invalid_input(fmt::format("tree size {} is not a decimal number without sign or leading zeros", in_quotes(s)));
  };
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return bad();
  uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return bad();
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10)
      return invalid_input(fmt::format("tree size {} does not fit in 64 bits", in_quotes(s)));
    value = value * 10 + digit;
  }
  return value;
}

Status verify_signature(const crypto::PublicKey& key, std::string_view text, ByteView signature) {
  switch (key.type()) {
    case crypto::KeyType::kEd25519:
      return key.verify(as_bytes(text), signature);
    case crypto::KeyType::kEcdsaP256:
    case crypto::KeyType::kEcdsaP384:
    case crypto::KeyType::kEcdsaP521:
      return key.verify(as_bytes(text), signature, key.default_hash());
    case crypto::KeyType::kRsa:
      return key.verify(as_bytes(text), signature, crypto::HashAlgorithm::kSha256, crypto::RsaPadding::kPkcs1v15);
  }
  return internal_error("unknown key type");
}

}  // namespace

bool is_valid_note_key_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size();) {
    const int32_t cp = next_code_point(name, i);
    if (cp < 0 || cp == '+' || is_unicode_space(cp)) return false;
  }
  return true;
}

Result<SignedNote> parse_signed_note(std::string_view envelope) {
  const auto fail = [](Error e) { return std::move(e.context("signed note")); };
  if (envelope.size() > kMaxNoteBytes)
    return fail(invalid_input(fmt::format("{} bytes, more than the limit of {}", envelope.size(), kMaxNoteBytes)));
  if (auto st = check_note_characters(envelope); !st.ok()) return fail(std::move(st).error());

  // The text ends at the last blank line; signature lines follow it.
  const size_t split = envelope.rfind("\n\n");
  if (split == std::string_view::npos) return fail(invalid_input("no blank line between text and signatures"));
  SignedNote note;
  note.text = std::string(envelope.substr(0, split + 1));
  std::string_view rest = envelope.substr(split + 2);
  if (rest.empty()) return fail(invalid_input("no signature lines"));
  if (rest.back() != '\n') return fail(invalid_input("the last signature line does not end with a newline"));

  while (!rest.empty()) {
    const size_t number = note.signatures.size() + 1;
    if (number > kMaxNoteSignatures)
      return fail(invalid_input(fmt::format("more than {} signature lines", kMaxNoteSignatures)));
    const size_t eol = rest.find('\n');  // found: rest ends with a newline
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol + 1);
    const auto line_error = [&](std::string_view what) {
      return fail(invalid_input(fmt::format("signature line {}: {}", number, what)));
    };
    if (!line.starts_with(kSigPrefix)) return line_error("does not start with an em dash (U+2014) and a space");
    line.remove_prefix(kSigPrefix.size());
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) return line_error("no space between key name and signature");
    const std::string_view name = line.substr(0, space);
    const std::string_view b64 = line.substr(space + 1);
    if (!is_valid_note_key_name(name))
      return line_error(fmt::format("invalid key name {} (empty, or has a space or '+')", in_quotes(name)));
    if (b64.empty()) return line_error("empty signature");
    auto decoded = base64_decode(b64);
    if (!decoded.ok()) return line_error("signature is not valid base64");
    if (decoded->size() < 5)
      return line_error(fmt::format("signature is {} bytes, want a 4-byte key ID and a signature", decoded->size()));
    NoteSignature sig;
    sig.name = std::string(name);
    sig.key_hint = first_four_bytes(*decoded);
    sig.signature.assign(decoded->begin() + 4, decoded->end());
    note.signatures.push_back(std::move(sig));
  }
  return note;
}

std::string format_signed_note(const SignedNote& note) {
  std::string out = note.text;
  out += '\n';
  for (const NoteSignature& sig : note.signatures) {
    Bytes raw{static_cast<uint8_t>(sig.key_hint >> 24), static_cast<uint8_t>(sig.key_hint >> 16),
              static_cast<uint8_t>(sig.key_hint >> 8), static_cast<uint8_t>(sig.key_hint)};
    raw.insert(raw.end(), sig.signature.begin(), sig.signature.end());
    out += kSigPrefix;
    out += sig.name;
    out += ' ';
    out += base64_encode(raw);
    out += '\n';
  }
  return out;
}

Result<Checkpoint> parse_checkpoint(std::string_view text) {
  const auto fail = [](Error e) { return std::move(e.context("checkpoint")); };
  if (text.size() > kMaxNoteBytes)
    return fail(invalid_input(fmt::format("{} bytes, more than the limit of {}", text.size(), kMaxNoteBytes)));
  if (auto st = check_note_characters(text); !st.ok()) return fail(std::move(st).error());
  if (text.empty() || text.back() != '\n') return fail(invalid_input("text does not end with a newline"));

  std::vector<std::string_view> lines;
  for (std::string_view rest = text; !rest.empty();) {
    if (lines.size() == 3 + kMaxCheckpointExtensions)
      return fail(invalid_input(fmt::format("more than {} extension lines", kMaxCheckpointExtensions)));
    const size_t eol = rest.find('\n');
    lines.push_back(rest.substr(0, eol));
    rest.remove_prefix(eol + 1);
  }
  if (lines.size() < 3)
    return fail(invalid_input(
        fmt::format("has {} lines, want at least 3 (origin, tree size, root hash)", lines.size())));

  Checkpoint cp;
  if (lines[0].empty()) return fail(invalid_input("empty origin line"));
  cp.origin = std::string(lines[0]);
  auto size = parse_tree_size(lines[1]);
  if (!size.ok()) return fail(std::move(size).error());
  cp.size = *size;
  auto root = base64_decode(lines[2]);
  if (!root.ok()) return fail(invalid_input(fmt::format("root hash {} is not valid base64", in_quotes(lines[2]))));
  if (root->size() != kHashSize)
    return fail(invalid_input(fmt::format("root hash is {} bytes, want {}", root->size(), kHashSize)));
  cp.root_hash = std::move(*root);
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return fail(invalid_input(fmt::format("extension line {} is empty", i - 2)));
    cp.extensions.emplace_back(lines[i]);
  }
  return cp;
}

std::string format_checkpoint(const Checkpoint& cp) {
  std::string out = fmt::format("{}\n{}\n{}\n", cp.origin, cp.size, base64_encode(cp.root_hash));
  for (const std::string& line : cp.extensions) {
    out += line;
    out += '\n';
  }
  return out;
}

std::optional<std::string_view> rekor_v1_origin_host(std::string_view origin) {
  constexpr std::string_view kSeparator = " - ";
  const size_t at = origin.rfind(kSeparator);
  if (at == std::string_view::npos || at == 0) return std::nullopt;
  const std::string_view tree_id = origin.substr(at + kSeparator.size());
  if (tree_id.empty() || tree_id.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  return origin.substr(0, at);
}

uint32_t legacy_key_id(const crypto::PublicKey& key) { return first_four_bytes(crypto::sha256(key.der())); }

uint32_t note_key_id(std::string_view name, const crypto::PublicKey& key) {
  Bytes material = to_bytes(name);
  material.push_back('\n');
  switch (key.type()) {
    case crypto::KeyType::kEd25519: {
      material.push_back(0x01);
      const Bytes raw = key.raw_ed25519();
      material.insert(material.end(), raw.begin(), raw.end());
      break;
    }
    case crypto::KeyType::kEcdsaP256:
    case crypto::KeyType::kEcdsaP384:
    case crypto::KeyType::kEcdsaP521:
      return legacy_key_id(key);
    case crypto::KeyType::kRsa: {
      constexpr std::string_view kRsaId = "PKIX-RSA-PKCS#1v1.5";
      material.push_back(0xFF);
      material.insert(material.end(), kRsaId.begin(), kRsaId.end());
      const Bytes der = key.der();
      material.insert(material.end(), der.begin(), der.end());
      break;
    }
  }
  return first_four_bytes(crypto::sha256(material));
}

Result<NoteVerifier> make_note_verifier(std::string name, const crypto::PublicKey& key) {
  const uint32_t id = note_key_id(name, key);
  return make_note_verifier(std::move(name), key, id);
}

Result<NoteVerifier> make_note_verifier(std::string name, const crypto::PublicKey& key, uint32_t key_id) {
  if (!is_valid_note_key_name(name)) {
    const std::string shown = check_note_characters(name).ok() ? in_quotes(name) : "(not printable)";
    return invalid_input(
        fmt::format("note verifier: invalid key name {} (must be non-empty UTF-8 without spaces or '+')", shown));
  }
  return NoteVerifier{std::move(name), key_id, key};
}

Status verify_note(const SignedNote& note, const NoteVerifier& verifier) {
  size_t matched = 0;
  for (size_t i = 0; i < note.signatures.size(); ++i) {
    const NoteSignature& sig = note.signatures[i];
    if (sig.name != verifier.name || sig.key_hint != verifier.key_id) continue;
    ++matched;
    if (auto st = verify_signature(verifier.key, note.text, sig.signature); !st.ok()) {
      return verification_failed(fmt::format("signed note: signature line {} by {} does not verify: {}", i + 1,
                                             key_label(sig.name, sig.key_hint), st.error().message));
    }
  }
  if (matched == 0) {
    std::string present;
    for (size_t i = 0; i < note.signatures.size() && i < 8; ++i) {
      if (i > 0) present += ", ";
      present += key_label(in_quotes(note.signatures[i].name), note.signatures[i].key_hint);
    }
    if (note.signatures.size() > 8) present += ", …";
    if (present.empty()) present = "none";
    return verification_failed(fmt::format("signed note: no signature by key {} (signature lines: {})",
                                           key_label(verifier.name, verifier.key_id), present));
  }
  return ok_status();
}

Result<Checkpoint> open_checkpoint(std::string_view envelope, const NoteVerifier& verifier) {
  VOUCH_ASSIGN_OR_RETURN(SignedNote note, parse_signed_note(envelope));
  VOUCH_RETURN_IF_ERROR(verify_note(note, verifier));
  return parse_checkpoint(note.text);
}

}  // namespace vouch::tlog
