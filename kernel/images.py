"""Recognizing an uploaded image by its bytes, not its name: PNG, JPEG or WebP, with the
width and height read from the header (PNG IHDR; JPEG SOFn; WebP VP8, VP8L, VP8X).

Anything else, a truncated header, or absurd dimensions is refused. ``check_upload`` is
the upload rule every domain applies (proposals' images, reports' photos): present, at
most 5 MB, and an image by its bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from kernel.errors import InvalidInput
from kernel.markers import N_

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_SIDE = 10_000
MAX_PIXELS = 50_000_000

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers that carry the dimensions (not DHT, JPG, DAC).
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    extension: str
    width: int
    height: int


class NotAnImage(ValueError):
    """The bytes are not an image of an accepted kind, or its size is absurd."""


def _png(data: bytes) -> tuple[int, int]:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise NotAnImage("truncated PNG header")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _jpeg(data: bytes) -> tuple[int, int]:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise NotAnImage("broken JPEG marker")
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2:
            raise NotAnImage("broken JPEG segment")
        if marker in _SOF:
            if pos + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        if marker == 0xD9:
            break
        pos += 2 + length
    raise NotAnImage("no JPEG frame header")


def _webp(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    raise NotAnImage("unknown or truncated WebP header")


def sniff_image(data: bytes) -> ImageInfo:
    """The kind and size of the image in ``data``; ``NotAnImage`` otherwise."""
    if data.startswith(PNG_SIGNATURE):
        info = ("image/png", "png", *_png(data))
    elif data.startswith(b"\xff\xd8\xff"):
        info = ("image/jpeg", "jpg", *_jpeg(data))
    elif len(data) >= 16 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        info = ("image/webp", "webp", *_webp(data))
    else:
        raise NotAnImage("not a PNG, JPEG or WebP image")
    content_type, extension, width, height = info
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE) or width * height > MAX_PIXELS:
        raise NotAnImage(f"absurd dimensions {width}x{height}")
    return ImageInfo(content_type, extension, width, height)


def check_upload(data: bytes, field: str = "file") -> ImageInfo:
    """An uploaded image under the upload rules, or ``InvalidInput`` with a sentence."""
    if not data:
        raise InvalidInput(N_("Choose an image file to upload."), code="no_file", field=field)
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidInput(
            N_("The image is larger than 5 MB."), code="image_too_large", field=field
        )
    try:
        return sniff_image(data)
    except NotAnImage:
        raise InvalidInput(
            N_("Only PNG, JPEG and WebP images of sensible dimensions are accepted."),
            code="not_an_image",
            field=field,
        ) from None
