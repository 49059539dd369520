#!/usr/bin/python3
"""Independent DSSE check with Debian's python3-securesystemslib and python3-cryptography.

  dsse_interop.py verify ENVELOPE.json PUBLIC_KEY.pem   -> exit 0 when a signature verifies
  dsse_interop.py sign PAYLOAD_TYPE PAYLOAD_FILE OUT.json OUT_KEY.pem
"""
import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from securesystemslib.signer import Signature, SSlibKey


def pae(payload_type: str, payload: bytes) -> bytes:
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def verify(envelope_path, key_path):
    env = json.load(open(envelope_path))
    payload = base64.b64decode(env["payload"])
    pem = open(key_path).read()
    keyid = hashlib.sha256(pem.encode()).hexdigest()
    key = SSlibKey(keyid, "ecdsa", "ecdsa-sha2-nistp256", {"public": pem})
    for s in env["signatures"]:
        sig = Signature(keyid, base64.b64decode(s["sig"]).hex())
        try:
            key.verify_signature(sig, pae(env["payloadType"], payload))
            return 0
        except Exception as e:  # noqa: BLE001 - any failure means this signature does not verify
            print("signature did not verify:", e, file=sys.stderr)
    return 1


def sign(payload_type, payload_path, out_path, key_out):
    payload = open(payload_path, "rb").read()
    private = ec.generate_private_key(ec.SECP256R1())
    sig = private.sign(pae(payload_type, payload), ec.ECDSA(hashes.SHA256()))
    env = {"payloadType": payload_type, "payload": base64.b64encode(payload).decode(),
           "signatures": [{"keyid": "", "sig": base64.b64encode(sig).decode()}]}
    json.dump(env, open(out_path, "w"))
    open(key_out, "wb").write(private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "verify":
        sys.exit(verify(sys.argv[2], sys.argv[3]))
    sys.exit(sign(*sys.argv[2:6]))
