// cosign's password-encrypted private key file: what `cosign generate-key-pair` writes as
// cosign.key (and `skopeo generate-sigstore-key` writes too).
//
// Format (sigstore/sigstore pkg/cryptoutils, go-securesystemslib package `encrypted`):
//   -----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----   (older cosign: ENCRYPTED COSIGN PRIVATE KEY)
//   base64 of the JSON document
//     {"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"<base64>"},
//      "cipher":{"name":"nacl/secretbox","nonce":"<base64>"},
//      "ciphertext":"<base64>"}
//   -----END ENCRYPTED SIGSTORE PRIVATE KEY-----
// The secretbox key is scrypt(password, salt, N, r, p, 32 bytes); the plaintext is the private
// key as DER PKCS#8. Base64 inside the JSON is the standard alphabet with padding.
#pragma once

#include <string>
#include <string_view>

#include "vouch/base/result.h"
#include "vouch/crypto/keys.h"

namespace vouch::crypto {

// Decrypts a cosign/sigstore encrypted private key. Also accepts an unencrypted PEM private key
// ("PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"); its password is ignored, as in sigstore.
// Only the scrypt parameter sets that go-securesystemslib reads are accepted (N = 2^15, 2^16 or
// 2^17 with r = 8, p = 1), so a crafted file cannot make key derivation exhaust memory.
// A wrong password or a modified ciphertext is a kVerification error
// "cosign key: wrong password or corrupted key"; a malformed file is kInvalidInput naming the field.
Result<PrivateKey> decrypt_cosign_private_key(std::string_view pem, std::string_view password);

// Encrypts `key` as cosign does today: PEM "ENCRYPTED SIGSTORE PRIVATE KEY", scrypt N = 65536,
// r = 8, p = 1 (go-securesystemslib's default), a fresh random 32-byte salt and 24-byte nonce.
Result<std::string> encrypt_cosign_private_key(const PrivateKey& key, std::string_view password);

}  // namespace vouch::crypto
