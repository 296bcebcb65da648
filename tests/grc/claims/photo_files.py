"""Image files as phones, scanners and attackers send them, made with Pillow and pillow-heif
(and, for the decompression bomb, a PNG header written byte by byte)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image
from pillow_heif import register_heif_opener

register_heif_opener()

ORIENTATION = 0x0112
MAKE = 0x010F
GPS_IFD = 0x8825
CAMERA_MAKE = "PhoneMakerXYZ"
RED, BLUE = (220, 20, 20), (20, 20, 220)


def phone_jpeg(width: int = 3000, height: int = 2000) -> bytes:
    """A phone photo held upright: stored landscape, left third red, with the EXIF
    orientation 6 (turn 90° clockwise to show it), the camera make and a GPS position."""
    return _phone_photo(width, height, "JPEG", quality=90)


def phone_heic(width: int = 1200, height: int = 800) -> bytes:
    """The same photo as an iPhone saves it, in HEIC."""
    return _phone_photo(width, height, "HEIF", quality=80)


def _phone_photo(width: int, height: int, image_format: str, quality: int) -> bytes:
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 3, height))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[MAKE] = CAMERA_MAKE
    exif[GPS_IFD] = {1: "N", 2: (49.0, 7.0, 12.5), 3: "E", 4: (6.0, 10.0, 33.2)}
    out = io.BytesIO()
    image.save(out, image_format, quality=quality, exif=exif.tobytes())
    return out.getvalue()


def small_png(width: int = 40, height: int = 30, colour: tuple[int, int, int] = BLUE) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def transparent_png() -> bytes:
    """200×100, transparent but for an opaque red square at the top left."""
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    image.paste((*RED, 255), (0, 0, 50, 50))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), RED).save(out, "WEBP")
    return out.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A PNG of a few hundred bytes whose header announces ``width`` × ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    pixels = zlib.compress(b"\0" * 100_000, 9)  # the first rows only: never read anyway
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
