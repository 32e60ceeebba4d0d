#!/usr/bin/env python3
"""Rewrite a `docker save` archive so its image config says arm64 (and tag it).

`docker import` records the engine's own architecture; an arm64 root filesystem imported on an
x86 engine is then refused by `FROM --platform=linux/arm64`. The config is a JSON file named by
its digest, so it gets a new name and manifest.json follows.
Usage: arm64-config.py ARCHIVE TAG
"""
import hashlib, io, json, sys, tarfile

archive, tag = sys.argv[1], sys.argv[2]
with tarfile.open(archive) as t:
    members = {m.name: (m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()}
manifest = json.loads(members["manifest.json"][1])
old = manifest[0]["Config"]
config = json.loads(members[old][1])
config["architecture"] = "arm64"
config["variant"] = "v8"
data = json.dumps(config, separators=(",", ":")).encode()
new = hashlib.sha256(data).hexdigest() + ".json"
manifest[0]["Config"] = new
manifest[0]["RepoTags"] = [tag]
out = io.BytesIO()
with tarfile.open(fileobj=out, mode="w") as t:
    for name, (m, content) in members.items():
        if name in (old, "manifest.json", "repositories"):
            continue
        t.addfile(m, io.BytesIO(content) if content is not None else None)
    for name, content in ((new, data), ("manifest.json", json.dumps(manifest).encode())):
        info = tarfile.TarInfo(name)
        info.size = len(content)
        t.addfile(info, io.BytesIO(content))
with open(archive, "wb") as f:
    f.write(out.getvalue())
