#!/usr/bin/env python3
"""An independent implementation of cosign's encrypted private key file, for the interop test
in cosign_key_test.cc. It uses only Python's hashlib.scrypt and PyNaCl (Debian: python3-nacl),
and writes the file the way cosign does (go-securesystemslib's `encrypted` package, then
Go's pem.EncodeToMemory): compact JSON in Go's field order, standard padded base64, 64-column PEM.

  cosign_key_interop.py check                     exit 0 when PyNaCl is importable
  cosign_key_interop.py encrypt PASSWORD DER_HEX  print an ENCRYPTED SIGSTORE PRIVATE KEY PEM
  cosign_key_interop.py decrypt PASSWORD PEM_FILE print the decrypted PKCS#8 DER as hex
"""
import base64
import hashlib
import json
import os
import sys


def scrypt_key(password, salt, n, r, p):
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32)


def encrypt(password, plaintext):
    import nacl.secret

    salt = os.urandom(32)
    nonce = os.urandom(24)
    n, r, p = 65536, 8, 1
    box = nacl.secret.SecretBox(scrypt_key(password, salt, n, r, p))
    ciphertext = box.encrypt(plaintext, nonce).ciphertext  # 16-byte MAC, then the encrypted bytes
    b64 = lambda b: base64.b64encode(b).decode()
    doc = {
        "kdf": {"name": "scrypt", "params": {"N": n, "r": r, "p": p}, "salt": b64(salt)},
        "cipher": {"name": "nacl/secretbox", "nonce": b64(nonce)},
        "ciphertext": b64(ciphertext),
    }
    body = base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    kind = "ENCRYPTED SIGSTORE PRIVATE KEY"
    return "\n".join([f"-----BEGIN {kind}-----", *lines, f"-----END {kind}-----"]) + "\n"


def decrypt(password, pem):
    import nacl.secret

    lines = pem.strip().splitlines()
    if not lines[0].startswith("-----BEGIN ENCRYPTED ") or not lines[-1].startswith("-----END "):
        raise SystemExit("not an encrypted cosign PEM key")
    doc = json.loads(base64.b64decode("".join(lines[1:-1]), validate=True))
    assert doc["kdf"]["name"] == "scrypt" and doc["cipher"]["name"] == "nacl/secretbox"
    params = doc["kdf"]["params"]
    key = scrypt_key(password, base64.b64decode(doc["kdf"]["salt"]), params["N"], params["r"], params["p"])
    box = nacl.secret.SecretBox(key)
    return box.decrypt(base64.b64decode(doc["ciphertext"]), base64.b64decode(doc["cipher"]["nonce"]))


def main(argv):
    if len(argv) == 2 and argv[1] == "check":
        import nacl.secret  # noqa: F401
        return 0
    if len(argv) == 4 and argv[1] == "encrypt":
        sys.stdout.write(encrypt(argv[2].encode(), bytes.fromhex(argv[3])))
        return 0
    if len(argv) == 4 and argv[1] == "decrypt":
        with open(argv[3]) as f:
            sys.stdout.write(decrypt(argv[2].encode(), f.read()).hex() + "\n")
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
