// libFuzzer target: signed-note and checkpoint parsing, and note verification, on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vouch/tlog/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vouch;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static const auto verifier = [] {
    auto key = crypto::PrivateKey::generate(crypto::KeyType::kEd25519);
    return *tlog::make_note_verifier("example.com/log", key->public_key());
  }();
  auto note = tlog::parse_signed_note(input);
  if (note.ok()) {
    (void)tlog::verify_note(*note, verifier);
    auto cp = tlog::parse_checkpoint(note->text);
    if (cp.ok()) (void)tlog::parse_checkpoint(tlog::format_checkpoint(*cp));
    (void)tlog::parse_signed_note(tlog::format_signed_note(*note));
  }
  (void)tlog::parse_checkpoint(input);
  return 0;
}
