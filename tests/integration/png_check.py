#!/usr/bin/python3
"""Checks that a PNG is a real, non-blank picture: decodes it with zlib alone (no imaging library),
undoes the row filters, and prints JSON: width, height, distinct colours, the share of pixels that
are not the background (the top-left pixel's colour), and how many pixels have each colour asked
for on the command line (hex RRGGBB).
usage: png_check.py FILE [RRGGBB ...]"""
import json
import struct
import sys
import zlib


def decode(path):
    data = open(path, 'rb').read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise SystemExit('not a PNG: bad signature')
    pos, idat, header = 8, [], None
    while pos + 8 <= len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b'IHDR':
            header = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat.append(body)
        elif kind == b'IEND':
            break
    if header is None:
        raise SystemExit('not a PNG: no IHDR')
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace != 0:
        raise SystemExit('unsupported PNG: depth %d colour type %d interlace %d' % (depth, colour, interlace))
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b''.join(idat))
    stride = width * bpp
    if len(raw) != height * (stride + 1):
        raise SystemExit('truncated PNG data')
    rows, prev = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 0xff
        elif kind == 2:
            line = bytearray((a + b) & 0xff for a, b in zip(line, prev))
        elif kind == 3:
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + ((left + prev[x]) >> 1)) & 0xff
        elif kind == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 0xff
        elif kind != 0:
            raise SystemExit('bad filter type %d in row %d' % (kind, y))
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def main():
    width, height, bpp, rows = decode(sys.argv[1])
    wanted = {c.lower(): 0 for c in sys.argv[2:]}
    counts = {}
    for line in rows:
        for x in range(0, len(line), bpp):
            rgb = line[x:x + 3]
            counts[rgb] = counts.get(rgb, 0) + 1
    background = rows[0][0:3]
    total = width * height
    for colour in wanted:
        wanted[colour] = counts.get(bytes.fromhex(colour), 0)
    print(json.dumps({'width': width, 'height': height, 'colours': len(counts),
                      'foreground': 1 - counts.get(background, 0) / total, 'wanted': wanted}))


main()
