"""Recognizing images by their bytes: PNG, JPEG, WebP headers, fakes and absurd sizes."""

from __future__ import annotations

import struct
import zlib

import pytest

from proposals.core.images import NotAnImage, sniff_image


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(min(height, 2)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def webp_vp8l(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    payload = b"\x2f" + bits.to_bytes(4, "little") + b"\x00" * 4
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def webp_vp8x(width: int, height: int) -> bytes:
    payload = b"\x00" * 4 + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    chunk = b"VP8X" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def test_png() -> None:
    info = sniff_image(png(640, 480))
    assert (info.content_type, info.width, info.height) == ("image/png", 640, 480)


def test_jpeg() -> None:
    info = sniff_image(jpeg(1024, 768))
    assert (info.content_type, info.extension, info.width, info.height) == (
        "image/jpeg", "jpg", 1024, 768,
    )  # fmt: skip


def test_webp() -> None:
    assert sniff_image(webp_vp8l(300, 200)).width == 300
    info = sniff_image(webp_vp8x(4000, 3000))
    assert (info.content_type, info.width, info.height) == ("image/webp", 4000, 3000)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GIF89a" + b"\x00" * 20,
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"%PDF-1.4\n",
        b"MZ\x90\x00" + b"\x00" * 60,
        b"\x89PNG\r\n\x1a\n",  # truncated
        b"\xff\xd8\xff\xe0\x00\x10JFIF",  # no frame header
        b"RIFF\x00\x00\x00\x00WEBPVP8 ",  # truncated
        b"<html><body>not an image</body></html>",
    ],
)
def test_fakes_are_refused(data: bytes) -> None:
    with pytest.raises(NotAnImage):
        sniff_image(data)


@pytest.mark.parametrize("make", [png, jpeg])
def test_absurd_dimensions_are_refused(make: object) -> None:
    for width, height in ((0, 10), (10, 0), (60_000, 10), (9_000, 9_000)):
        with pytest.raises(NotAnImage):
            sniff_image(make(width, height))  # type: ignore[operator]
