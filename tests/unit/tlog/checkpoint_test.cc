#include "vouch/tlog/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <random>

#include "testdata.h"
#include "vouch/base/json.h"
#include "vouch/crypto/digest.h"
#include "vouch/crypto/keys.h"
#include "vouch/tlog/merkle.h"

namespace vouch::tlog {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

const std::string kDash = "\xE2\x80\x94";  // U+2014 EM DASH

Bytes b64(std::string_view s) {
  auto r = base64_decode(s);
  EXPECT_TRUE(r.ok()) << s;
  return r.ok() ? *r : Bytes{};
}

uint32_t be32(ByteView b) { return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3]; }

// ---- C2SP examples -----------------------------------------------------------------------

// c2sp.org/signed-note, "Verifier keys": the vkey and the note it verifies.
constexpr std::string_view kSpecVkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const std::string kSpecNote = "This is an example message.\n\n" + kDash +
                              " example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

crypto::PublicKey spec_key() {
  const std::string_view vkey = kSpecVkey;
  const Bytes material = b64(vkey.substr(vkey.rfind('+') + 1));
  EXPECT_EQ(material.size(), 33u);
  EXPECT_EQ(material[0], 0x01);  // Ed25519
  auto key = crypto::PublicKey::from_raw_ed25519(ByteView(material).subspan(1));
  EXPECT_TRUE(key.ok());
  return *key;
}

TEST(SignedNote, SpecExampleVerifies) {
  const crypto::PublicKey key = spec_key();
  EXPECT_EQ(note_key_id("example.com/foo", key), 0x530d903au);
  auto verifier = make_note_verifier("example.com/foo", key);
  ASSERT_TRUE(verifier.ok());
  EXPECT_EQ(verifier->key_id, 0x530d903au);

  auto note = parse_signed_note(kSpecNote);
  ASSERT_TRUE(note.ok()) << note.error().message;
  EXPECT_EQ(note->text, "This is an example message.\n");
  ASSERT_EQ(note->signatures.size(), 1u);
  EXPECT_EQ(note->signatures[0].name, "example.com/foo");
  EXPECT_EQ(note->signatures[0].key_hint, 0x530d903au);
  EXPECT_EQ(note->signatures[0].signature.size(), 64u);
  EXPECT_TRUE(verify_note(*note, *verifier).ok());
  EXPECT_EQ(format_signed_note(*note), kSpecNote);

  // The same signature over other text, or under another name, does not verify.
  SignedNote changed = *note;
  changed.text = "This is an example message!\n";
  auto st = verify_note(changed, *verifier);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kVerification);
  EXPECT_THAT(st.error().message, HasSubstr("signature line 1 by example.com/foo+530d903a does not verify"));
  auto other = make_note_verifier("example.com/bar", key);
  ASSERT_TRUE(other.ok());
  st = verify_note(*note, *other);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kVerification);
  EXPECT_THAT(st.error().message, HasSubstr("no signature by key example.com/bar+"));
}

TEST(SignedNote, TextMaySpanBlankLines) {
  // c2sp.org/signed-note's first example: the text ends at the last blank line.
  const std::string poem = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned \xC3\xA8 subito sera.\n";
  const std::string envelope =
      poem + "\n" + kDash +
      " quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";
  auto note = parse_signed_note(envelope);
  ASSERT_TRUE(note.ok()) << note.error().message;
  EXPECT_EQ(note->text, poem);
  ASSERT_EQ(note->signatures.size(), 1u);
  EXPECT_EQ(note->signatures[0].name, "quasimodo.example/salvatore");
  EXPECT_EQ(note->signatures[0].key_hint, 0x367ba04bu);
}

// ---- Parsing: what must be rejected --------------------------------------------------------

const std::string kSig = "AAAAAQAAAAA=";  // key ID 0x00000001, 4 signature bytes

TEST(SignedNote, RejectsMalformed) {
  const std::string good = "text\n\n" + kDash + " name " + kSig + "\n";
  ASSERT_TRUE(parse_signed_note(good).ok());

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "no blank line"},
      {"text\n", "no blank line"},
      {"text\n" + kDash + " name " + kSig + "\n", "no blank line"},
      {"text\n\n", "no signature lines"},
      {"text\n\n" + kDash + " name " + kSig, "does not end with a newline"},
      {"text\n\n" + kDash + " name " + kSig + "\n\n", "no signature lines"},
      {"text\n\n- name " + kSig + "\n", "em dash"},
      {"text\n\n" + kDash + "name " + kSig + "\n", "em dash"},
      {"text\n\n " + kDash + " name " + kSig + "\n", "em dash"},
      {"text\n\n" + kDash + " name" + kSig + "\n", "no space"},
      {"text\n\n" + kDash + "  " + kSig + "\n", "invalid key name"},
      {"text\n\n" + kDash + " na+me " + kSig + "\n", "invalid key name"},
      {"text\n\n" + kDash + " na\xC2\xA0me " + kSig + "\n", "invalid key name"},  // NO-BREAK SPACE
      {"text\n\n" + kDash + " na\xE3\x80\x80me " + kSig + "\n", "invalid key name"},  // IDEOGRAPHIC SPACE
      {"text\n\n" + kDash + " name \n", "empty signature"},
      {"text\n\n" + kDash + " name " + kSig + " \n", "base64"},
      {"text\n\n" + kDash + " name AAAAAQAAAAA\n", "base64"},
      {"text\n\n" + kDash + " name AAAA!QAAAAA=\n", "base64"},
      {"text\n\n" + kDash + " name AAAAAQ==\n", "want a 4-byte key ID and a signature"},
      {"te\rxt\n\n" + kDash + " name " + kSig + "\n", "control character 0x0d"},
      {"te\txt\n\n" + kDash + " name " + kSig + "\n", "control character 0x09"},
      {std::string("te\0xt\n\n", 7) + kDash + " name " + kSig + "\n", "control character 0x00"},
      {"te\xFFxt\n\n" + kDash + " name " + kSig + "\n", "invalid UTF-8"},
      {"te\xC0\x80xt\n\n" + kDash + " name " + kSig + "\n", "invalid UTF-8"},      // overlong NUL
      {"te\xED\xA0\x80xt\n\n" + kDash + " name " + kSig + "\n", "invalid UTF-8"},  // surrogate
      {"te\xF4\x90\x80\x80xt\n\n" + kDash + " name " + kSig + "\n", "invalid UTF-8"},  // > U+10FFFF
      {"text\n\n\xE2\x80", "invalid UTF-8"},  // truncated sequence
      {"text\n\n" + kDash + " name " + kSig + "\r\n", "control character"},
  };
  for (const auto& [input, want] : cases) {
    auto note = parse_signed_note(input);
    ASSERT_FALSE(note.ok()) << "accepted: " << input;
    EXPECT_EQ(note.error().code, ErrorCode::kInvalidInput);
    EXPECT_THAT(note.error().message, HasSubstr(want)) << input;
    EXPECT_THAT(note.error().message, ::testing::StartsWith("signed note: "));
  }
  // Five decoded bytes (a key ID and one byte of signature) are enough to parse.
  EXPECT_TRUE(parse_signed_note("text\n\n" + kDash + " name AAAAAQA=\n").ok());
}

TEST(SignedNote, BoundsSignatureCountAndSize) {
  std::string many = "text\n\n";
  for (size_t i = 0; i < kMaxNoteSignatures; ++i) many += kDash + " name" + std::to_string(i) + " " + kSig + "\n";
  auto note = parse_signed_note(many);
  ASSERT_TRUE(note.ok()) << note.error().message;
  EXPECT_EQ(note->signatures.size(), kMaxNoteSignatures);
  many += kDash + " one-too-many " + kSig + "\n";
  auto too_many = parse_signed_note(many);
  ASSERT_FALSE(too_many.ok());
  EXPECT_THAT(too_many.error().message, HasSubstr("more than 100 signature lines"));

  std::string huge(kMaxNoteBytes, 'a');
  huge += "\n\n" + kDash + " name " + kSig + "\n";
  auto big = parse_signed_note(huge);
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.error().message, HasSubstr("more than the limit"));
}

TEST(SignedNote, KeyNames) {
  EXPECT_TRUE(is_valid_note_key_name("rekor.sigstore.dev"));
  EXPECT_TRUE(is_valid_note_key_name("localhost:8000"));
  EXPECT_TRUE(is_valid_note_key_name("caf\xC3\xA9.example/log"));
  EXPECT_FALSE(is_valid_note_key_name(""));
  EXPECT_FALSE(is_valid_note_key_name("a b"));
  EXPECT_FALSE(is_valid_note_key_name("a+b"));
  EXPECT_FALSE(is_valid_note_key_name("a\xE2\x80\x83" "b"));  // EM SPACE
  EXPECT_FALSE(is_valid_note_key_name("a\xFF"));
  auto v = make_note_verifier("rekor.sigstore.dev - 123", spec_key());
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, ErrorCode::kInvalidInput);
}

// ---- Checkpoints ---------------------------------------------------------------------------

const std::string kRoot = "Fnnj13Uu1jdksPc4HZLapKX329dVlD5+MGNsiqBq1XM=";

TEST(Checkpoint, Parses) {
  auto cp = parse_checkpoint("example.com/log\n20852163\n" + kRoot + "\n");
  ASSERT_TRUE(cp.ok()) << cp.error().message;
  EXPECT_EQ(cp->origin, "example.com/log");
  EXPECT_EQ(cp->size, 20852163u);
  EXPECT_EQ(cp->root_hash, b64(kRoot));
  EXPECT_TRUE(cp->extensions.empty());

  cp = parse_checkpoint("rekor.sigstore.dev - 2605736670972794746\n0\n" + kRoot + "\nTimestamp: 1689177396617352539\nx\n");
  ASSERT_TRUE(cp.ok()) << cp.error().message;
  EXPECT_EQ(cp->origin, "rekor.sigstore.dev - 2605736670972794746");
  EXPECT_EQ(cp->size, 0u);
  EXPECT_EQ(cp->extensions, (std::vector<std::string>{"Timestamp: 1689177396617352539", "x"}));
  EXPECT_EQ(format_checkpoint(*cp),
            "rekor.sigstore.dev - 2605736670972794746\n0\n" + kRoot + "\nTimestamp: 1689177396617352539\nx\n");

  cp = parse_checkpoint("o\n18446744073709551615\n" + kRoot + "\n");
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->size, UINT64_MAX);
}

TEST(Checkpoint, RejectsMalformed) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "does not end with a newline"},
      {"o\n1\n" + kRoot, "does not end with a newline"},
      {"o\n1\n", "has 2 lines, want at least 3"},
      {"\n1\n" + kRoot + "\n", "empty origin"},
      {"o\n\n" + kRoot + "\n", "tree size ''"},
      {"o\n01\n" + kRoot + "\n", "leading zeros"},
      {"o\n00\n" + kRoot + "\n", "leading zeros"},
      {"o\n+1\n" + kRoot + "\n", "tree size '+1'"},
      {"o\n-1\n" + kRoot + "\n", "tree size '-1'"},
      {"o\n 1\n" + kRoot + "\n", "tree size ' 1'"},
      {"o\n1 \n" + kRoot + "\n", "tree size '1 '"},
      {"o\n0x10\n" + kRoot + "\n", "tree size '0x10'"},
      {"o\n18446744073709551616\n" + kRoot + "\n", "does not fit in 64 bits"},
      {"o\n99999999999999999999\n" + kRoot + "\n", "does not fit in 64 bits"},
      {"o\n999999999999999999999\n" + kRoot + "\n", "not a decimal number"},
      {"o\n1\n\n", "root hash is 0 bytes"},
      {"o\n1\nnot base64!\n", "is not valid base64"},
      {"o\n1\nFnnj13Uu1jdksPc4HZLapKX329dVlD5-MGNsiqBq1XM=\n", "is not valid base64"},  // URL alphabet
      {"o\n1\nFnnj13Uu1jdksPc4HZLapKX329dVlD5+MGNsiqBq1XM\n", "is not valid base64"},   // no padding
      {"o\n1\nAAAA\n", "root hash is 3 bytes, want 32"},
      {"o\n1\n" + kRoot + "\n\n", "extension line 1 is empty"},
      {"o\n1\n" + kRoot + "\nx\n\ny\n", "extension line 2 is empty"},
      {"o\n1\n" + kRoot + "\r\n", "control character"},
      {"o\xFF\n1\n" + kRoot + "\n", "invalid UTF-8"},
  };
  for (const auto& [input, want] : cases) {
    auto cp = parse_checkpoint(input);
    ASSERT_FALSE(cp.ok()) << "accepted: " << input;
    EXPECT_EQ(cp.error().code, ErrorCode::kInvalidInput);
    EXPECT_THAT(cp.error().message, HasSubstr(want)) << input;
    EXPECT_THAT(cp.error().message, ::testing::StartsWith("checkpoint: "));
  }

  std::string many = "o\n1\n" + kRoot + "\n";
  for (size_t i = 0; i < kMaxCheckpointExtensions; ++i) many += "ext\n";
  ASSERT_TRUE(parse_checkpoint(many).ok());
  many += "ext\n";
  auto too_many = parse_checkpoint(many);
  ASSERT_FALSE(too_many.ok());
  EXPECT_THAT(too_many.error().message, HasSubstr("more than 100 extension lines"));
}

TEST(Checkpoint, RekorV1OriginHost) {
  EXPECT_EQ(rekor_v1_origin_host("rekor.sigstore.dev - 2605736670972794746"), "rekor.sigstore.dev");
  EXPECT_EQ(rekor_v1_origin_host("localhost:8000 - 124190645164477"), "localhost:8000");
  EXPECT_EQ(rekor_v1_origin_host("log2025-1.rekor.sigstore.dev"), std::nullopt);
  EXPECT_EQ(rekor_v1_origin_host("a - b"), std::nullopt);
  EXPECT_EQ(rekor_v1_origin_host(" - 1"), std::nullopt);
  EXPECT_EQ(rekor_v1_origin_host("a - "), std::nullopt);
}

// ---- Signing and verifying with every key type --------------------------------------------

struct Signed {
  SignedNote note;
  crypto::PublicKey key;
};

Signed sign_checkpoint(crypto::KeyType type, const std::string& name, const Checkpoint& cp) {
  auto priv = crypto::PrivateKey::generate(type);
  EXPECT_TRUE(priv.ok());
  const crypto::PublicKey pub = priv->public_key();
  SignedNote note;
  note.text = format_checkpoint(cp);
  auto sig = priv->sign(as_bytes(note.text));  // each key type's default: what verify_note expects
  EXPECT_TRUE(sig.ok());
  // A witness cosignature (unknown key) first, then the log's signature.
  note.signatures.push_back({"witness.example/w1", 0x01020304, Bytes(72, 0x42)});
  note.signatures.push_back({name, note_key_id(name, pub), *sig});
  return {note, pub};
}

class NoteKeyTypes : public ::testing::TestWithParam<crypto::KeyType> {};

TEST_P(NoteKeyTypes, SignVerifyTamper) {
  const std::string name = "log.example.com";
  Checkpoint cp{name, 12345, Bytes(32, 0x5a), {}};
  Signed s = sign_checkpoint(GetParam(), name, cp);
  auto verifier = make_note_verifier(name, s.key);
  ASSERT_TRUE(verifier.ok());
  auto st = verify_note(s.note, *verifier);
  ASSERT_TRUE(st.ok()) << st.error().message;

  // Through the text form.
  const std::string envelope = format_signed_note(s.note);
  auto opened = open_checkpoint(envelope, *verifier);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->origin, name);
  EXPECT_EQ(opened->size, 12345u);
  EXPECT_EQ(opened->root_hash, cp.root_hash);

  // Any change to the signed text fails.
  SignedNote tampered = s.note;
  tampered.text = format_checkpoint(Checkpoint{name, 12346, cp.root_hash, {}});
  st = verify_note(tampered, *verifier);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kVerification);
  EXPECT_THAT(st.error().message, HasSubstr("signature line 2 by log.example.com+"));

  // A bad signature line from the known key rejects the note even beside a good one.
  SignedNote doubled = s.note;
  doubled.signatures.push_back(s.note.signatures[1]);
  doubled.signatures.back().signature[doubled.signatures.back().signature.size() / 2] ^= 1;
  EXPECT_FALSE(verify_note(doubled, *verifier).ok());
  // A repeated good line is fine.
  doubled.signatures.back() = s.note.signatures[1];
  EXPECT_TRUE(verify_note(doubled, *verifier).ok());

  // Only the witness line: no signature by the log.
  SignedNote witness_only = s.note;
  witness_only.signatures.pop_back();
  st = verify_note(witness_only, *verifier);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.error().message, HasSubstr("no signature by key log.example.com+"));
  EXPECT_THAT(st.error().message, HasSubstr("'witness.example/w1'+01020304"));

  // Another key of the same type under the same name finds no signature (key IDs differ), or,
  // if the caller forces the key ID, finds one that does not verify.
  auto other = crypto::PrivateKey::generate(GetParam());
  ASSERT_TRUE(other.ok());
  auto wrong = make_note_verifier(name, other->public_key());
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(verify_note(s.note, *wrong).ok());
  auto forced = make_note_verifier(name, other->public_key(), verifier->key_id);
  ASSERT_TRUE(forced.ok());
  st = verify_note(s.note, *forced);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kVerification);

  // Same key, another name: no signature line carries that name.
  auto renamed = make_note_verifier("other.example.com", s.key);
  ASSERT_TRUE(renamed.ok());
  EXPECT_FALSE(verify_note(s.note, *renamed).ok());
}

INSTANTIATE_TEST_SUITE_P(All, NoteKeyTypes,
                         ::testing::Values(crypto::KeyType::kEd25519, crypto::KeyType::kEcdsaP256,
                                           crypto::KeyType::kEcdsaP384, crypto::KeyType::kRsa),
                         [](const auto& info) {
                           std::string n(crypto::key_type_name(info.param));
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(NoteKeyId, Rules) {
  auto ed = crypto::PrivateKey::generate(crypto::KeyType::kEd25519);
  auto ec = crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256);
  auto rsa = crypto::PrivateKey::generate(crypto::KeyType::kRsa);
  ASSERT_TRUE(ed.ok() && ec.ok() && rsa.ok());
  const std::string name = "log.example.com";

  Bytes m = to_bytes(name + "\n\x01");
  const Bytes raw = ed->public_key().raw_ed25519();
  m.insert(m.end(), raw.begin(), raw.end());
  EXPECT_EQ(note_key_id(name, ed->public_key()), be32(crypto::sha256(m)));

  EXPECT_EQ(note_key_id(name, ec->public_key()), be32(crypto::sha256(ec->public_key().der())));
  EXPECT_EQ(note_key_id("any.other.name", ec->public_key()), note_key_id(name, ec->public_key()));
  EXPECT_EQ(legacy_key_id(ec->public_key()), note_key_id(name, ec->public_key()));

  Bytes r = to_bytes(name + "\n\xff" + "PKIX-RSA-PKCS#1v1.5");
  const Bytes der = rsa->public_key().der();
  r.insert(r.end(), der.begin(), der.end());
  EXPECT_EQ(note_key_id(name, rsa->public_key()), be32(crypto::sha256(r)));
  EXPECT_EQ(legacy_key_id(rsa->public_key()), be32(crypto::sha256(der)));
}

// ---- Real checkpoints from Sigstore bundles ------------------------------------------------

struct TrustedLog {
  std::string base_url;
  Bytes log_id;
  crypto::PublicKey key;
};

std::vector<TrustedLog> load_tlogs(const fs::path& trusted_root) {
  std::vector<TrustedLog> out;
  auto v = testing::read_json(trusted_root);
  EXPECT_TRUE(v.ok()) << trusted_root;
  if (!v.ok()) return out;
  auto tlogs = json::Node::root(*v).get("tlogs")->array();
  EXPECT_TRUE(tlogs.ok());
  for (const auto& t : *tlogs) {
    auto der = t.get("publicKey")->get_bytes("rawBytes");
    auto key = der.ok() ? crypto::PublicKey::from_der(*der) : Result<crypto::PublicKey>(std::move(der).error());
    EXPECT_TRUE(key.ok()) << trusted_root;
    if (!key.ok()) continue;
    out.push_back({*t.get_string("baseUrl"), *t.get("logId")->get_bytes("keyId"), *key});
  }
  return out;
}

// "https://host:port/path" -> "host:port" (keep_port) or "host" (as Go's url.Hostname()).
std::string url_host(std::string_view url, bool keep_port) {
  if (auto at = url.find("://"); at != std::string_view::npos) url.remove_prefix(at + 3);
  url = url.substr(0, url.find('/'));
  if (!keep_port) url = url.substr(0, url.find(':'));
  return std::string(url);
}

struct EntryOutcome {
  std::string outcome;  // "ok", "unknown-log", "checkpoint-invalid", "checkpoint-signature", "inclusion", ...
  std::string detail;
};

// What vouch's tlog pieces say about one tlog entry of a bundle, verified as sigstore-go does:
// Rekor v1 checkpoints (origin "<host> - <tree ID>") are signed as <host>; Rekor v2 checkpoints
// as the hostname of the log's baseUrl, which must also be the origin.
EntryOutcome check_entry(const json::Node& entry, const std::vector<TrustedLog>& logs) {
  const Bytes log_id = *entry.get("logId")->get_bytes("keyId");
  const TrustedLog* log = nullptr;
  for (const auto& l : logs)
    if (l.log_id == log_id) log = &l;
  if (!log) return {"unknown-log", ""};
  auto proof_node = entry.get("inclusionProof");
  if (!proof_node.ok()) return {"no-inclusion-proof", ""};
  const auto& p = *proof_node;
  auto cp_node = p.find("checkpoint");
  if (!cp_node) return {"no-checkpoint", ""};
  const std::string envelope = *cp_node->get_string("envelope");

  // Which name to verify under depends on the (still unverified) origin, as in sigstore-go.
  auto unverified = parse_signed_note(envelope);
  if (!unverified.ok()) return {"checkpoint-invalid", unverified.error().message};
  auto unverified_cp = parse_checkpoint(unverified->text);
  if (!unverified_cp.ok()) return {"checkpoint-invalid", unverified_cp.error().message};
  const auto v1_host = rekor_v1_origin_host(unverified_cp->origin);
  const std::string name = v1_host ? url_host(log->base_url, true) : url_host(log->base_url, false);
  if (v1_host && *v1_host != name) return {"name-mismatch", std::string(*v1_host) + " vs " + name};

  auto verifier = make_note_verifier(name, log->key);
  if (!verifier.ok()) return {"bad-verifier", verifier.error().message};
  // The checkpoint key ID is the log ID's first four bytes (ECDSA: SHA-256 of the key; Ed25519:
  // rekor-tiles' log ID is the untruncated C2SP key hash).
  if (verifier->key_id != be32(log_id)) return {"key-id-mismatch", ""};
  auto cp = open_checkpoint(envelope, *verifier);
  if (!cp.ok()) {
    return {cp.error().code == ErrorCode::kVerification ? "checkpoint-signature" : "checkpoint-invalid",
            cp.error().message};
  }
  if (!v1_host && cp->origin != name) return {"origin-mismatch", cp->origin};

  std::vector<Bytes> hashes;
  if (auto hs = p.find("hashes")) {
    const auto hash_nodes = hs->array();
    for (const auto& h : *hash_nodes) hashes.push_back(*h.bytes());
  }
  const Bytes leaf = hash_leaf(*entry.get_bytes("canonicalizedBody"));
  const auto index = static_cast<uint64_t>(*p.get_int64("logIndex"));
  auto st = verify_inclusion(index, cp->size, leaf, hashes, cp->root_hash);
  if (!st.ok()) return {"inclusion", st.error().message};
  if (static_cast<uint64_t>(*p.get_int64("treeSize")) != cp->size || *p.get_bytes("rootHash") != cp->root_hash)
    return {"proof-differs-from-checkpoint", ""};
  return {"ok", ""};
}

TEST(RealCheckpoints, HappyPathV03RekorV1) {
  VOUCH_TESTDATA_OR_FAIL(data);
  const auto logs = load_tlogs(data / "sigstore-trust" / "trusted_root.production.json");
  auto bundle = testing::read_json(data / "sigstore-conformance" / "bundle-verify" / "happy-path-v0.3" /
                                   "bundle.sigstore.json");
  ASSERT_TRUE(bundle.ok());
  auto entries = json::Node::root(*bundle).get("verificationMaterial")->get("tlogEntries")->array();
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  const json::Node& entry = (*entries)[0];
  const json::Node proof = *entry.get("inclusionProof");
  const std::string envelope = *proof.get("checkpoint")->get_string("envelope");

  const TrustedLog& rekor = logs.at(0);
  ASSERT_EQ(rekor.base_url, "https://rekor.sigstore.dev");
  ASSERT_EQ(rekor.key.type(), crypto::KeyType::kEcdsaP256);
  auto verifier = make_note_verifier("rekor.sigstore.dev", rekor.key);
  ASSERT_TRUE(verifier.ok());
  EXPECT_EQ(verifier->key_id, 0xc0d23d6au);  // "wNI9aj…" in the signature line
  EXPECT_EQ(verifier->key_id, be32(rekor.log_id));

  auto note = parse_signed_note(envelope);
  ASSERT_TRUE(note.ok()) << note.error().message;
  ASSERT_EQ(note->signatures.size(), 1u);
  EXPECT_EQ(note->signatures[0].name, "rekor.sigstore.dev");
  EXPECT_EQ(note->signatures[0].key_hint, 0xc0d23d6au);
  auto st = verify_note(*note, *verifier);
  ASSERT_TRUE(st.ok()) << st.error().message;

  auto cp = parse_checkpoint(note->text);
  ASSERT_TRUE(cp.ok()) << cp.error().message;
  EXPECT_EQ(cp->origin, "rekor.sigstore.dev - 2605736670972794746");
  EXPECT_EQ(rekor_v1_origin_host(cp->origin), "rekor.sigstore.dev");
  EXPECT_EQ(cp->size, 75408393u);
  EXPECT_EQ(cp->root_hash, b64("Fnnj13Uu1jdksPc4HZLapKX329dVlD5+MGNsiqBq1XM="));
  EXPECT_TRUE(cp->extensions.empty());
  EXPECT_EQ(static_cast<uint64_t>(*proof.get_int64("treeSize")), cp->size);
  EXPECT_EQ(*proof.get_bytes("rootHash"), cp->root_hash);

  // The inclusion proof: leaf = canonicalizedBody, index = inclusionProof.logIndex.
  std::vector<Bytes> hashes;
  const auto hash_nodes = proof.get("hashes")->array();  // keep the Result alive while iterating
  for (const auto& h : *hash_nodes) hashes.push_back(*h.bytes());
  EXPECT_EQ(hashes.size(), 11u);
  const Bytes leaf = hash_leaf(*entry.get_bytes("canonicalizedBody"));
  const uint64_t index = static_cast<uint64_t>(*proof.get_int64("logIndex"));
  EXPECT_EQ(index, 75408392u);
  st = verify_inclusion(index, cp->size, leaf, hashes, cp->root_hash);
  EXPECT_TRUE(st.ok()) << st.error().message;
  // The entry's global logIndex (79571823) is not its index in this tree.
  EXPECT_FALSE(verify_inclusion(static_cast<uint64_t>(*entry.get_int64("logIndex")), cp->size, leaf, hashes,
                                cp->root_hash)
                   .ok());

  // One changed byte anywhere in the signed text breaks the signature.
  for (size_t i = 0; i < note->text.size(); ++i) {
    SignedNote changed = *note;
    changed.text[i] = changed.text[i] == '1' ? '2' : '1';
    ASSERT_FALSE(verify_note(changed, *verifier).ok()) << i;
  }
}

TEST(RealCheckpoints, RekorV2Ed25519) {
  VOUCH_TESTDATA_OR_FAIL(data);
  const fs::path cases = data / "sigstore-conformance" / "bundle-verify";
  for (const char* name : {"rekor2-happy-path", "rekor2-checkpoint-cosigned", "rekor2-checkpoint-origin-not-first",
                           "rekor2-checkpoint-multiple-cosigs", "rekor2-checkpoint-two-sigs-cosigned"}) {
    SCOPED_TRACE(name);
    const auto logs = load_tlogs(cases / name / "trusted_root.json");
    const TrustedLog* alpha1 = nullptr;
    for (const auto& l : logs)
      if (l.base_url == "https://log2025-alpha1.rekor.sigstage.dev") alpha1 = &l;
    ASSERT_NE(alpha1, nullptr);
    ASSERT_EQ(alpha1->key.type(), crypto::KeyType::kEd25519);
    auto verifier = make_note_verifier("log2025-alpha1.rekor.sigstage.dev", alpha1->key);
    ASSERT_TRUE(verifier.ok());
    // rekor-tiles' log ID is the whole C2SP key hash; the checkpoint key ID its first 4 bytes.
    Bytes m = to_bytes("log2025-alpha1.rekor.sigstage.dev\n\x01");
    const Bytes raw = alpha1->key.raw_ed25519();
    m.insert(m.end(), raw.begin(), raw.end());
    EXPECT_EQ(crypto::sha256(m), alpha1->log_id);
    EXPECT_EQ(verifier->key_id, 0xf30d5a99u);

    auto bundle = testing::read_json(cases / name / "bundle.sigstore.json");
    ASSERT_TRUE(bundle.ok());
    auto entry = (*json::Node::root(*bundle).get("verificationMaterial")->get("tlogEntries")->array())[0];
    const std::string envelope = *entry.get("inclusionProof")->get("checkpoint")->get_string("envelope");
    auto cp = open_checkpoint(envelope, *verifier);
    ASSERT_TRUE(cp.ok()) << cp.error().message;
    EXPECT_EQ(cp->origin, "log2025-alpha1.rekor.sigstage.dev");
    EXPECT_EQ(rekor_v1_origin_host(cp->origin), std::nullopt);
    EXPECT_EQ(cp->size, 736u);
    EXPECT_EQ(check_entry(entry, logs).outcome, "ok");
  }
}

TEST(RealCheckpoints, InvalidSignatureFails) {
  VOUCH_TESTDATA_OR_FAIL(data);
  const auto logs = load_tlogs(data / "sigstore-trust" / "trusted_root.production.json");
  auto bundle = testing::read_json(data / "sigstore-conformance" / "bundle-verify" /
                                   "invalid-checkpoint-signature_fail" / "bundle.sigstore.json");
  ASSERT_TRUE(bundle.ok());
  auto entry = (*json::Node::root(*bundle).get("verificationMaterial")->get("tlogEntries")->array())[0];
  const std::string envelope = *entry.get("inclusionProof")->get("checkpoint")->get_string("envelope");
  auto verifier = make_note_verifier("rekor.sigstore.dev", logs.at(0).key);
  ASSERT_TRUE(verifier.ok());
  auto note = parse_signed_note(envelope);
  ASSERT_TRUE(note.ok());  // well-formed...
  auto st = verify_note(*note, *verifier);
  ASSERT_FALSE(st.ok());  // ...but the signature is wrong
  EXPECT_EQ(st.error().code, ErrorCode::kVerification);
  EXPECT_THAT(st.error().message, HasSubstr("signature line 1 by rekor.sigstore.dev+c0d23d6a does not verify"));
}

// Every tlog entry in the conformance bundles, and what checkpoint and inclusion verification
// must say about it. Cases not listed must be "ok" (their failures, if any, lie elsewhere).
TEST(RealCheckpoints, AllConformanceBundles) {
  VOUCH_TESTDATA_OR_FAIL(data);
  const std::map<std::string, std::string> expected = {
      {"bundle-from-wrong-instance_fail", "unknown-log"},  // a staging entry, production root
      {"checkpoint-wrong-roothash_fail", "inclusion"},
      {"invalid-checkpoint-signature_fail", "checkpoint-signature"},
      {"rekor2-checkpoint-missing-log-signature_fail", "checkpoint-invalid"},
      {"rekor2-checkpoint-missing-root-hash_fail", "checkpoint-invalid"},
      {"rekor2-checkpoint-missing-size_fail", "checkpoint-invalid"},
      {"rekor2-checkpoint-no-matching-signature_fail", "checkpoint-signature"},
      {"bundle-invalid-base64-signature_fail", "inclusion"},  // canonicalizedBody was edited
      {"incorrect-public-key_fail", "inclusion"},             // the entry's public key was edited
      {"bundle-unknown-version_fail", "no-inclusion-proof"},
      {"bundle-with-root-cert_fail", "no-checkpoint"},
      {"intoto-missing-inclusion-proof_fail", "no-inclusion-proof"},
      {"invalid-inclusion-proof_fail", "no-checkpoint"},
      {"rekor2-no-inclusion-proof_fail", "no-inclusion-proof"},
  };
  const fs::path dir = data / "sigstore-conformance" / "bundle-verify";
  const auto production = load_tlogs(data / "sigstore-trust" / "trusted_root.production.json");
  size_t checked = 0, ok = 0;
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory()) cases.push_back(e.path());
  std::sort(cases.begin(), cases.end());
  for (const fs::path& c : cases) {
    const std::string name = c.filename().string();
    auto bundle = testing::read_json(c / "bundle.sigstore.json");
    if (!bundle.ok()) continue;  // bundle-malformed-json_fail
    const auto logs = fs::exists(c / "trusted_root.json") ? load_tlogs(c / "trusted_root.json") : production;
    auto material = json::Node::root(*bundle).get("verificationMaterial");
    if (!material.ok()) continue;
    auto entries = material->get("tlogEntries");
    if (!entries.ok()) continue;
    const auto entry_nodes = entries->array();
    for (const auto& entry : *entry_nodes) {
      const EntryOutcome got = check_entry(entry, logs);
      const auto want = expected.count(name) ? expected.at(name) : "ok";
      EXPECT_EQ(got.outcome, want) << name << ": " << got.detail;
      ++checked;
      ok += got.outcome == "ok";
    }
  }
  EXPECT_GE(checked, 45u);
  EXPECT_GE(ok, 30u);
}

// ---- Robustness: untrusted input never crashes the parsers ---------------------------------

TEST(NoteRobustness, MutatedEnvelopes) {
  std::vector<std::string> seeds = {kSpecNote,
                                    "rekor.sigstore.dev - 2605736670972794746\n75408393\n" + kRoot +
                                        "\nTimestamp: 1\n\n" + kDash + " rekor.sigstore.dev " + kSig + "\n" + kDash +
                                        " w " + kSig + "\n"};
  const crypto::PublicKey key = spec_key();
  auto verifier = make_note_verifier("example.com/foo", key);
  ASSERT_TRUE(verifier.ok());
  std::mt19937_64 rng(42);
  const std::string alphabet = std::string("\n\n\n +/=-0123456789abcAZ") + kDash + "\xC3\xA9\xFF\x80\r\t";
  size_t parsed = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string s = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t at = rng() % s.size();
      switch (rng() % 4) {
        case 0: s[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: s.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        case 2: s.erase(at, 1 + rng() % 8); break;
        default: s.resize(at); break;
      }
    }
    auto note = parse_signed_note(s);
    if (note.ok()) {
      ++parsed;
      EXPECT_FALSE(note->signatures.empty());
      EXPECT_TRUE(note->text.ends_with('\n'));
      (void)verify_note(*note, *verifier);
      (void)parse_checkpoint(note->text);
    }
    (void)parse_checkpoint(s);
    (void)open_checkpoint(s, *verifier);
  }
  EXPECT_GT(parsed, 100u);
  for (int round = 0; round < 2000; ++round) {
    std::string s(rng() % 200, '\0');
    for (auto& ch : s) ch = static_cast<char>(rng());
    (void)parse_signed_note(s);
    (void)parse_checkpoint(s);
  }
}

}  // namespace
}  // namespace vouch::tlog
