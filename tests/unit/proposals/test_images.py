"""Recognizing images by their bytes: PNG, JPEG, WebP headers, fakes and absurd sizes."""

from __future__ import annotations

import pytest

from kernel.images import NotAnImage, sniff_image
from tests.support.images import jpeg, png, webp_vp8l, webp_vp8x


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
