#!/usr/bin/env python3
"""png_check.py FILE [#rrggbb ...]: the size and content of a PNG screenshot,
read with PIL where it is installed (Debian: python3-pil), else with the
standard library alone (zlib; 8-bit RGB or RGBA, non-interlaced, as Chromium
writes them - slower).  Prints one line of figures:

  width height non_white_share distinct_colours first_row last_row colours...

non_white_share: the share of pixels that are not (near) white; distinct
colours are counted exactly; first_row / last_row: the first and last row
holding a non-white pixel; then, for each #rrggbb given after FILE, how many
pixels have exactly that colour."""
import struct
import sys
import zlib

try:
    from PIL import Image
except ImportError:
    Image = None


def read_png(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit("not a PNG file: %s" % path)
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = ihdr
    if depth != 8 or colour_type not in (2, 6) or interlace != 0:
        raise SystemExit("unsupported PNG: depth %d, colour type %d, interlace %d" % (depth, colour_type, interlace))
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def figures_pil(path, wanted):
    """The same figures from PIL."""
    im = Image.open(path).convert("RGB")
    width, height = im.size
    colours = im.getcolors(maxcolors=width * height)
    non_white = sum(n for n, px in colours if min(px) < 235)
    counts = [sum(n for n, px in colours if bytes(px) == w) for w in wanted]
    box = im.convert("L").point(lambda v: 255 if v < 235 else 0).getbbox()
    first, last = (box[1], box[3] - 1) if box else (-1, -1)
    return width, height, non_white, len(colours), first, last, counts


def main():
    wanted = [bytes.fromhex(c.lstrip("#")) for c in sys.argv[2:]]
    if Image is not None:
        width, height, non_white, n_colours, first, last, counts = figures_pil(sys.argv[1], wanted)
        print(width, height, "%.4f" % (non_white / float(width * height)), n_colours, first, last, *counts)
        return
    width, height, bpp, rows = read_png(sys.argv[1])
    wanted = [bytes.fromhex(c.lstrip("#")) for c in sys.argv[2:]]
    counts = [0] * len(wanted)
    colours, non_white, first, last = set(), 0, -1, -1
    for y, line in enumerate(rows):
        row_has = False
        for x in range(0, width * bpp, bpp):
            px = line[x:x + 3]
            colours.add(px)
            if min(px) < 235:
                non_white += 1
                row_has = True
            for k, w in enumerate(wanted):
                if px == w:
                    counts[k] += 1
        if row_has:
            last = y
            if first < 0:
                first = y
    print(width, height, "%.4f" % (non_white / float(width * height)), len(colours), first, last,
          *counts)


if __name__ == "__main__":
    main()
