"""Makes the fuzzing seeds: small valid files the fuzzer mutates.

Run from this folder with Pillow installed: python3 make.py
"""
import gzip
import struct

from PIL import Image

FIXTURE = "../../../../tests/fixtures/mnist"


def idx_prefix(name, count, item_bytes, header_bytes):
    with gzip.open(f"{FIXTURE}/{name}.gz") as f:
        data = f.read()
    header = bytearray(data[:header_bytes])
    struct.pack_into(">I", header, 4, count)
    return bytes(header) + data[header_bytes : header_bytes + count * item_bytes]


labels = idx_prefix("t10k-labels-idx1-ubyte", 30, 1, 8)
images = idx_prefix("t10k-images-idx3-ubyte", 3, 784, 16)
open("labels.idx", "wb").write(labels)
open("images.idx", "wb").write(images)
open("images.idx.gz", "wb").write(gzip.compress(images, mtime=0))

seven = Image.open("../../../../docs/samples/seven.png")
small = seven.resize((48, 64))
small.save("seven-rgba.png")
small.convert("RGB").save("seven.jpg", quality=80)
small.convert("CMYK").save("seven-cmyk.jpg", quality=80)
gray = small.convert("L")
gray.convert("I").point(lambda v: v * 257).convert("I;16").save("seven-gray16.png")
small.convert("P").save("seven.gif")
Image.new("L", (1, 1), 0).save("one-pixel.png")
