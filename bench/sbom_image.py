#!/usr/bin/env python3
"""Builds the image the SBOM bench measures on, from this (Debian) machine's own files, as a
docker-archive (`docker save` layout) with gzip-compressed layers:
  layer 1  os-release, the dpkg database (status, info/*.list), every DEP-5 copyright file
  layer 2  up to 120 MB of shared libraries (/usr/lib/x86_64-linux-gnu)
  layer 3  up to 120 MB of programs and Python (/usr/bin, /usr/lib/python3, dist-packages)
Usage: sbom_image.py OUT.docker.tar"""
import gzip, hashlib, io, json, os, sys, tarfile

out = sys.argv[1]
BUDGET = 120 << 20


def add_file(tf, src, arc, budget):
    try:
        st = os.lstat(src)
    except OSError:
        return budget
    if os.path.islink(src):
        info = tarfile.TarInfo(arc)
        info.type = tarfile.SYMTYPE
        info.linkname = os.readlink(src)
        tf.addfile(info)
        return budget
    if not os.path.isfile(src) or st.st_size > min(budget, 20 << 20):
        return budget
    try:
        with open(src, "rb") as f:
            data = f.read()
    except OSError:
        return budget
    info = tarfile.TarInfo(arc)
    info.size = len(data)
    info.mode = st.st_mode & 0o7777
    info.mtime = 1700000000
    tf.addfile(info, io.BytesIO(data))
    return budget - len(data)


def layer(paths, budget=BUDGET, extra=()):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in extra:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1700000000
            tf.addfile(info, io.BytesIO(data))
        for p in paths:
            if os.path.isdir(p) and not os.path.islink(p):
                for dirpath, dirs, names in os.walk(p):
                    dirs.sort()
                    for n in sorted(names):
                        src = os.path.join(dirpath, n)
                        budget = add_file(tf, src, src.lstrip("/"), budget)
                        if budget < 1 << 20:
                            break
                    if budget < 1 << 20:
                        break
            else:
                budget = add_file(tf, p, p.lstrip("/"), budget)
    tar = raw.getvalue()
    return tar, gzip.compress(tar, compresslevel=6, mtime=0)


dpkg = ["/var/lib/dpkg/status"] + sorted(
    os.path.join("/var/lib/dpkg/info", n) for n in os.listdir("/var/lib/dpkg/info") if n.endswith(".list"))
docs = sorted(os.path.join("/usr/share/doc", d, "copyright") for d in os.listdir("/usr/share/doc"))
# The real file behind /etc/os-release, stored at both names.
release = open("/etc/os-release", "rb").read()
layers = [layer(dpkg + docs, extra=[("etc/os-release", release), ("usr/lib/os-release", release)]),
          layer(["/usr/lib/x86_64-linux-gnu"]),
          layer(["/usr/bin", "/usr/lib/python3"])]

diff_ids = ["sha256:" + hashlib.sha256(t).hexdigest() for t, _ in layers]
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": diff_ids}, "history": []}).encode()
config_name = hashlib.sha256(config).hexdigest() + ".json"
manifest = [{"Config": config_name, "RepoTags": ["bench/sbom:v1"],
             "Layers": [f"{hashlib.sha256(gz).hexdigest()}/layer.tar" for _, gz in layers]}]
tmp = out + ".tmp"
with tarfile.open(tmp, "w") as tf:
    def put(name, data):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = 1700000000
        tf.addfile(info, io.BytesIO(data))
    for (_, gz), name in zip(layers, manifest[0]["Layers"]):
        put(name, gz)
    put(config_name, config)
    put("manifest.json", json.dumps(manifest).encode())
os.replace(tmp, out)
print(sum(len(gz) for _, gz in layers), sum(len(t) for t, _ in layers))
