#!/usr/bin/env python3
"""Seed the fuzz corpora (fuzz/corpus/<target>/) from real sessions.

Runs the stock rsync client against rrsync-rs through a tee shim (as an
sshd forced command would see it), records both directions of a push and a
pull (plain, zstd, lz4 and zlib), splits the recordings into the pieces each
decoder reads, and adds hand-written seeds for the text parsers.
Usage: fuzz/seed.py [RRSYNC_BIN]   (default target/release/rrsync-rs)
"""
import os, shutil, struct, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "target/release/rrsync-rs"))
CORPUS = os.path.join(HERE, "corpus")

SHIM = """#!/bin/sh
while [ $# -gt 0 ]; do case "$1" in -l) shift 2;; -*) shift;; *) shift; break;; esac; done
D=$(mktemp -d); mkfifo $D/f; exec 3<&0
tee "$REC.c2s" <&3 > $D/f &
TP=$!
"$RRSYNC_BIN" local $FLAGS "$ROOT" localhost "$@" < $D/f | tee "$REC.s2c"
sleep 0.5; kill $TP 2>/dev/null; rm -rf $D
"""

def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def demux(buf):
    """Data payload of MSG_DATA frames; stops at the first non-frame."""
    out, i = bytearray(), 0
    while i + 4 <= len(buf):
        tag = struct.unpack_from("<I", buf, i)[0]
        code, n = (tag >> 24) - 7, tag & 0xFFFFFF
        if code < 0 or i + 4 + n > len(buf):
            break
        if code == 0:
            out += buf[i + 4:i + 4 + n]
        i += 4 + n
    return bytes(out)

def record(work, name, flags, args):
    rec = os.path.join(work, name)
    env = dict(os.environ, REC=rec, FLAGS=flags, ROOT=os.path.join(work, "root"), RRSYNC_BIN=BIN)
    shim = os.path.join(work, "shim.sh")
    subprocess.run(["rsync", "-e", shim] + args, env=env, cwd=work, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return open(rec + ".c2s", "rb").read(), open(rec + ".s2c", "rb").read()
    except OSError:
        return b"", b""

def main():
    if shutil.which("rsync") is None:
        sys.exit("seed.py: needs the rsync client")
    work = tempfile.mkdtemp(prefix="rrsync-seed-")
    with open(os.path.join(work, "shim.sh"), "w") as f:
        f.write(SHIM)
    os.chmod(os.path.join(work, "shim.sh"), 0o755)
    src = os.path.join(work, "src")
    os.makedirs(os.path.join(src, "sub"))
    with open(os.path.join(src, "a.txt"), "wb") as f:
        f.write(b"hello world\n" * 300)
    with open(os.path.join(src, "sub", "b.bin"), "wb") as f:
        f.write(os.urandom(3000))
    os.symlink("a.txt", os.path.join(src, "link"))
    shutil.copytree(src, os.path.join(work, "root", "pull"), symlinks=True)
    # A basis for the pull's delta: same prefix, changed tail.
    os.makedirs(os.path.join(work, "got"))
    with open(os.path.join(work, "got", "a.txt"), "wb") as f:
        f.write(b"hello world\n" * 250 + b"changed\n")
    sessions = []
    for comp, zargs in (("plain", []), ("zstd", ["--compress-choice=zstd"]), ("lz4", ["--compress-choice=lz4"]),
                        ("zlib", ["--old-compress"])):
        base = ["-rlt", "--checksum-seed=7", "--no-whole-file"] + zargs
        sessions.append((comp, "push", record(work, "push-" + comp, "-wo", base + ["src/", "localhost:dst-%s/" % comp])))
        sessions.append((comp, "pull", record(work, "pull-" + comp, "-ro", base + ["localhost:pull/", "got/"])))
    for comp, way, (c2s, s2c) in sessions:
        tag = "%s-%s" % (way, comp)
        if not c2s:
            continue
        # Client's side: version, checksum list (vstring), [compress list], then frames.
        ln = c2s[4]
        off = 5 + ln
        if comp != "plain" and off < len(c2s):
            pass  # --compress-choice: no list is negotiated
        data = demux(c2s[off:])
        put("handshake", tag, bytes([1 | (8 if comp != "plain" else 0)]) + c2s[:off])
        put("mux", tag, c2s[off:])
        put("varint", tag, bytes([0]) + data[:512])
        put("ndx", tag, bytes([5]) + data)
        if way == "push":
            # a = protocol 32, varint flags, links; b = safe flist.
            put("flist", tag, bytes([5 | 0x08 | 0x40, 0x10]) + data)
            for k in range(0, len(data), max(1, len(data) // 8)):
                put("token_" + ("plain" if comp == "plain" else comp), "%s-%d" % (tag, k), bytes([3]) + data[k:])
        else:
            put("filter_rules", tag, bytes([5]) + data[:64])
            # After the empty filter list: ndx, iflags (2), sum head, sums.
            for k in range(4, min(len(data), 40)):
                put("sum_head", "%s-%d" % (tag, k), bytes([5 | (1 << 3)]) + data[k:])
        put("mux", "s2c-" + tag, s2c[4:])
        if way == "pull":
            put("flist", "s2c-" + tag, bytes([5 | 0x08 | 0x40, 0x10]) + demux(s2c[4 + 1 + 1 + 20:]))
    rules = [b"- *.o", b"+ */", b"- /secret/***", b": .rsync-filter", b"dir-merge /etc/passwd",
             b"merge ../../etc/shadow", b"- foo\\", b"-! ", b"+s,r *.[ch]", b"P **/keep", b"!"]
    wire = b"".join(struct.pack("<i", len(r)) + r for r in rules) + struct.pack("<i", 0)
    put("filter_rules", "rules", bytes([5]) + wire)
    put("filter_rules", "wild", bytes([5]) + b"**/[a-c]*\\\0a/b/cde")
    cmds = [b"rsync --server --sender -vlogDtpre.iLsfxCIvu . dir/",
            b"rsync --server -vlogDtpre.iLsfxCIvu --delete --max-alloc=0 --bwlimit=1 --timeout=5 -B 131073 . dst/",
            b"rsync --server -s", b"/usr/bin/rsync --server --sender -l -p -r -t . a\\ b", b"true",
            b"rsync --server --sender -e.LsfxCIvu --files-from=- --from0 . ../../etc"]
    for i, c in enumerate(cmds):
        put("forced_command", "cmd%d" % i, c)
        put("server_args", "argv%d" % i, b"\0".join(c.split(b" ")[1:]))
    put("secluded_args", "push", b"\0rsync\0-rlt\0--delete\0.\0dst/\0\0")
    put("secluded_args", "pull", b"\1rsync\0-rlt\0.\0../etc\0-evil\0\0")
    shutil.rmtree(work, ignore_errors=True)
    print("seeded", sorted(os.listdir(CORPUS)))

main()
