"""Draws two pen-style digits, dark ink on light paper, as RGBA PNGs (no
dependencies): the samples `dlsuite predict` is shown on in the README."""
import math, struct, zlib

def png(path, w, h, rgba):
    raw = b"".join(b"\x00" + bytes(rgba[y * w * 4:(y + 1) * w * 4]) for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

def draw(path, strokes, w=240, h=320, pen=14):
    pts = []
    for stroke in strokes:
        for a, b in zip(stroke, stroke[1:]):
            n = int(math.dist(a, b)) + 1
            pts += [(a[0] + (b[0] - a[0]) * i / n, a[1] + (b[1] - a[1]) * i / n) for i in range(n + 1)]
    img = []
    for y in range(h):
        for x in range(w):
            d = min(math.hypot(x - px, y - py) for px, py in pts[::2])
            ink = max(0.0, min(1.0, (pen - d) / 3))
            paper = (242, 236, 222)
            c = [round(p * (1 - ink) + 25 * ink) for p in paper]
            img += c + [255]
    png(path, w, h, img)

# A seven: a top bar with a slight rise, then a long slanted stroke.
draw("seven.png", [[(50, 70), (120, 62), (190, 60)], [(190, 60), (150, 150), (115, 250), (100, 285)]])
# A three: two bowls.
three = [(60 + 70 * math.sin(t), 100 - 50 * math.cos(t)) for t in [i * 0.1 - 0.6 for i in range(30)]]
three += [(60 + 80 * math.sin(t), 210 - 60 * math.cos(t)) for t in [i * 0.1 + 0.4 for i in range(32)]]
draw("three.png", [three])
