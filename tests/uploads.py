"""Files for upload tests: a real PDF, impostors, images and an image bomb."""

from __future__ import annotations

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

# The smallest PDF readers open: header, one empty page, cross-reference table, %%EOF.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
    b"0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\nstartxref\n160\n%%EOF\n"
)
HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200 + b"This program cannot be run in DOS mode"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>'


def pdf(name: str = "sow.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def big_pdf(megabytes: int) -> SimpleUploadedFile:
    body = PDF[:-6] + b"%" + b"0" * (megabytes * 1024 * 1024) + b"\n%%EOF\n"
    return SimpleUploadedFile("huge.pdf", body, content_type="application/pdf")


def image(fmt: str = "PNG", size=(800, 400), mode: str = "RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "navy").save(out, format=fmt, **save)
    return out.getvalue()


def png(name: str = "logo.png", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image("PNG", **kwargs), content_type="image/png")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def bomb(side: int = 30000) -> SimpleUploadedFile:
    """A valid 1-bit PNG of side × side pixels (900 million) in a few hundred kilobytes."""
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed pixels, all zero
    squeeze = zlib.compressobj(9)
    data = b"".join(squeeze.compress(row * 1000) for _ in range(side // 1000))
    data += squeeze.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    body = (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )
    return SimpleUploadedFile("bomb.png", body, content_type="image/png")
