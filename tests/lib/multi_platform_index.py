"""Adds a multi-platform image index tagged "multi" to an OCI layout: LAYOUT AMD64_DIGEST ARM64_DIGEST,
both manifests already in the layout (linux/amd64 and linux/arm64/v8)."""
import hashlib
import json
import os
import sys

layout, amd, arm = sys.argv[1:]


def size(digest):
    return os.path.getsize(f"{layout}/blobs/sha256/{digest.split(':')[1]}")


index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd, "size": size(amd),
     "platform": {"architecture": "amd64", "os": "linux"}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm, "size": size(arm),
     "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}}]}
data = json.dumps(index).encode()
h = hashlib.sha256(data).hexdigest()
with open(f"{layout}/blobs/sha256/{h}", "wb") as f:
    f.write(data)
with open(f"{layout}/index.json") as f:
    top = json.load(f)
top["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + h,
                         "size": len(data), "annotations": {"org.opencontainers.image.ref.name": "multi"}})
with open(f"{layout}/index.json", "w") as f:
    json.dump(top, f)
