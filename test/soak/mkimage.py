#!/usr/bin/env python3
"""Builds a busybox image from the host's static busybox and pushes it to a plain-HTTP registry.

One layer: /bin/busybox, a link per applet, /etc/passwd and /etc/group, and the directories runc mounts over.
Pushed with the registry v2 HTTP API as a Docker schema2 image, under every name given.

Usage: mkimage.py BUSYBOX REGISTRY NAME:TAG [NAME:TAG...]     e.g. mkimage.py /bin/busybox 127.0.0.1:5098 soak/busybox:1
"""
import gzip
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import urllib.request

MTIME = 1700000000


def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def layer(busybox):
    with open(busybox, "rb") as f:
        binary = f.read()
    applets = subprocess.run([busybox, "--list"], check=True, capture_output=True, text=True).stdout.split()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        def add(name, kind, data=b"", mode=0o755, link=""):
            ti = tarfile.TarInfo(name)
            ti.mtime, ti.mode, ti.uid, ti.gid = MTIME, mode, 0, 0
            if kind == "dir":
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            elif kind == "sym":
                ti.type, ti.linkname = tarfile.SYMTYPE, link
                tf.addfile(ti)
            else:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
        for d in ["bin", "dev", "etc", "proc", "sys", "tmp", "root", "var"]:
            add(d, "dir", mode=0o1777 if d == "tmp" else 0o755)
        add("bin/busybox", "file", binary)
        for a in sorted(set(applets)):
            if a != "busybox":
                add("bin/" + a, "sym", link="busybox")
        add("etc/passwd", "file", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n", 0o644)
        add("etc/group", "file", b"root:x:0:\nnogroup:x:65534:\n", 0o644)
    tar = raw.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, filename="") as g:
        g.write(tar)
    return tar, gz.getvalue()


def push_blob(registry, repo, data):
    d = digest(data)
    head = urllib.request.Request(f"http://{registry}/v2/{repo}/blobs/{d}", method="HEAD")
    try:
        urllib.request.urlopen(head)
        return d
    except urllib.error.HTTPError:
        pass
    start = urllib.request.urlopen(urllib.request.Request(f"http://{registry}/v2/{repo}/blobs/uploads/",
                                                          method="POST", data=b""))
    location = start.headers["Location"]
    if location.startswith("/"):
        location = f"http://{registry}{location}"
    sep = "&" if "?" in location else "?"
    urllib.request.urlopen(urllib.request.Request(f"{location}{sep}digest={d}", method="PUT", data=data,
                                                  headers={"Content-Type": "application/octet-stream"}))
    return d


def main():
    busybox, registry, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    tar, gz = layer(busybox)
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2023-11-14T22:13:20Z",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [digest(tar)]},
    }, sort_keys=True).encode()
    for name in names:
        repo, tag = name.rsplit(":", 1)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config),
                       "digest": push_blob(registry, repo, config)},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(gz),
                        "digest": push_blob(registry, repo, gz)}],
        }).encode()
        urllib.request.urlopen(urllib.request.Request(
            f"http://{registry}/v2/{repo}/manifests/{tag}", method="PUT", data=manifest,
            headers={"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"}))
        print(f"{registry}/{name}")


if __name__ == "__main__":
    main()
