#!/usr/bin/env python3
"""Writes zlib_ref.bin: two files' deflate token streams (CPRES_ZLIB) made
with C zlib through Python's zlib module, following the conventions of
rsync's token stream when built against a system zlib (no Z_INSERT_ONLY):
raw deflate, level 6, a Z_SYNC_FLUSH before every token whose 4-byte
00 00 ff ff tail is dropped, and matched blocks compressed with
Z_SYNC_FLUSH and the output thrown away so they enter the history.
Content: see ref_basis/ref_target in ../deflate_tests.rs."""
import struct, zlib

basis = bytes(((k * k + 7 * k) % 251) for k in range(8000))
blk = lambda i: basis[i * 1000:(i + 1) * 1000]
lit1 = bytearray(blk(2)); lit1[500] ^= 0x55
lit2 = blk(5) + bytes((k % 7) + ord('a') for k in range(500))
# (token, literal data before it); -1 ends the file.
calls = [(2, b''), (3, bytes(lit1)), (4, b''), (5, b''), (7, lit2), (-1, b'')]

out = bytearray()
for _ in range(2):
    z = zlib.compressobj(6, zlib.DEFLATED, -15, 8)
    last, run_start, last_run_end = -1, 0, 0
    for tok, data in calls:
        if last == -1:
            run_start, last_run_end = tok, 0
        elif data or tok != last + 1:
            r, n = run_start - last_run_end, last - run_start
            if 0 <= r <= 63:
                out.append((0x80 if n == 0 else 0xc0) + r)
            else:
                out.append(0x20 if n == 0 else 0x21)
                out += struct.pack('<i', run_start)
            if n:
                out += bytes([n & 0xff, n >> 8])
            last_run_end, run_start = last, tok
        last = tok
        if data:
            z_out = z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH)
            assert z_out.endswith(b'\0\0\xff\xff')
            z_out = z_out[:-4]
            for i in range(0, len(z_out), 16383):
                piece = z_out[i:i + 16383]
                out += bytes([0x40 + (len(piece) >> 8), len(piece) & 0xff]) + piece
        if tok == -1:
            out.append(0)
        else:
            z.compress(blk(tok)); z.flush(zlib.Z_SYNC_FLUSH)
open('zlib_ref.bin', 'wb').write(out)
print(len(out), 'bytes')
