"""Photos on claims: checked, normalised and stored, then shown to staff and, through the
work order's signed link, to the contractor.

Nothing sent is trusted: the bytes must decode as a JPEG, PNG, WebP or HEIC (iPhone) image
whatever the file is called, and what is kept is a new JPEG drawn from the pixels alone, so
no metadata (the GPS position of the tenant's home, the phone's serial number…) is stored or
sent on.

Every function flushes and never commits; the caller owns the transaction.
"""

from __future__ import annotations

import functools
import io
import re
import struct
import unicodedata
import warnings
from datetime import datetime
from http import HTTPStatus
from pathlib import PurePosixPath
from types import ModuleType
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import Response, send_file
from sqlalchemy.orm import Session, undefer

from grc.claims import timeline
from grc.claims.models import (
    Claim,
    ClaimPhoto,
    ClaimStatus,
    EventKind,
    PhotoSource,
)
from grc.clock import settings
from grc.errors import Conflict, DomainError, TooLarge
from grc.people.models import User

if TYPE_CHECKING:
    from PIL import Image

MAX_PHOTOS_PER_CLAIM = 10
MAX_SIDE = 2048
# Well above any phone camera (a 200-megapixel sensor bins to 50 Mpx at most by default, and
# 12–48 Mpx is the norm), far below what would exhaust a worker's memory once decoded.
MAX_PIXELS = 40_000_000
JPEG_QUALITY = 85
STORED_TYPE = "image/jpeg"
_DECODED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
# What Pillow raises on bytes that are not, or not entirely, an image it can decode.
_UNREADABLE = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    IndexError,
    TypeError,
    struct.error,
)
_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f"\\/;:*?<>|]+')
_CLOSED = (ClaimStatus.CLOSED, ClaimStatus.CANCELLED)


class PhotoRefused(DomainError):
    """The file is not a photo that can be kept; named on the upload's ``file`` field.
    ``too_many_pixels`` tells an image too large once decoded from what is no image at all."""

    status_code = HTTPStatus.UNPROCESSABLE_ENTITY

    def __init__(self, reason: str, *, too_many_pixels: bool = False) -> None:
        super().__init__(reason, {"files": {"file": [reason]}})
        self.too_many_pixels = too_many_pixels


# What register_intake skips rather than fails on.
REFUSALS = (PhotoRefused, TooLarge, Conflict)


def add_photo(
    session: Session,
    claim: Claim,
    filename: str,
    data: bytes,
    actor: User | None,
    now: datetime,
    *,
    source: str = PhotoSource.UPLOAD,
) -> ClaimPhoto:
    """Check, normalise and store a photo of ``claim``, and note it on the timeline.

    Raises TooLarge over ``GRC_ATTACHMENT_MAX_BYTES``, PhotoRefused for what is not a JPEG,
    PNG, WebP or HEIC image (or one too large once decoded), Conflict for a closed or cancelled
    claim or one that already has its photos; always before anything is written.
    """
    _refuse_if_closed(claim)
    limit = settings().attachment_max_bytes
    if len(data) > limit:
        raise TooLarge(
            f"The photo is over the {limit}-byte limit.",
            {"files": {"file": [f"At most {limit} bytes."]}},
        )
    jpeg, width, height = normalise(data)

    session.flush()
    # Decoding is done before the lock: concurrent uploads to one claim wait on each other
    # only for the count and the insert.
    session.refresh(claim, ["status"], with_for_update=True)
    _refuse_if_closed(claim)
    count = session.scalar(
        sa.select(sa.func.count()).select_from(ClaimPhoto).where(ClaimPhoto.claim_id == claim.id)
    )
    if (count or 0) >= MAX_PHOTOS_PER_CLAIM:
        raise Conflict(f"A claim takes at most {MAX_PHOTOS_PER_CLAIM} photos.")

    name = safe_filename(filename)
    photo = ClaimPhoto(
        claim=claim,
        filename=name,
        content_type=STORED_TYPE,
        size=len(jpeg),
        width=width,
        height=height,
        data=jpeg,
        source=str(source),
        uploaded_by=actor,
        created_at=now,
    )
    session.add(photo)
    session.flush()
    claim.updated_at = now
    timeline.add_event(
        session,
        claim,
        EventKind.COMMENT,
        now,
        actor=actor,
        body=f"Photo ajoutée : {name}",
        changes={"photo_id": photo.id},
    )
    session.flush()
    return photo


def photo_of_claim(session: Session, claim_id: int, photo_id: int) -> ClaimPhoto | None:
    """The photo with its bytes, if it belongs to that claim."""
    return session.execute(
        sa.select(ClaimPhoto)
        .where(ClaimPhoto.id == photo_id, ClaimPhoto.claim_id == claim_id)
        .options(undefer(ClaimPhoto.data))
    ).scalar_one_or_none()


@functools.cache
def _pillow() -> tuple[ModuleType, ModuleType]:
    """Pillow with its HEIC opener, loaded at the first photo: the processes that never
    receive one (the workers of other queues) do without its 7 MB."""
    from PIL import Image, ImageOps
    from pillow_heif import register_heif_opener

    # libheif applies the picture's rotation itself and resets its EXIF orientation, so the
    # exif_transpose in normalise never turns a HEIC photo twice.
    register_heif_opener()
    return Image, ImageOps


def normalise(data: bytes) -> tuple[bytes, int, int]:
    """The image re-drawn as a plain JPEG: turned upright, at most MAX_SIDE pixels on its
    longest side, transparency on white, no metadata. Returns the bytes and the size."""
    Image, ImageOps = _pillow()  # noqa: N806 - Pillow's own module names
    too_big = f"The image has too many pixels (at most {MAX_PIXELS // 1_000_000} million)."
    with warnings.catch_warnings():
        # Pillow only warns below twice its own limit: here any such warning is a refusal.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=_DECODED_FORMATS) as image:
                # Only the header is read so far: a bomb is refused before it is decoded.
                if image.width * image.height > MAX_PIXELS:
                    raise PhotoRefused(too_big, too_many_pixels=True)
                # A large JPEG is decoded straight at 1/2, 1/4 or 1/8 scale when that is
                # still above the target size: less memory and time.
                image.draft("RGB", (MAX_SIDE, MAX_SIDE))
                image.load()
                upright = ImageOps.exif_transpose(image)
                upright.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
                flat = _on_white(upright)
                flat.info.clear()
                out = io.BytesIO()
                flat.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PhotoRefused(too_big, too_many_pixels=True) from exc
        except _UNREADABLE as exc:
            raise PhotoRefused("The file is not a JPEG, PNG, WebP or HEIC image.") from exc
    return out.getvalue(), flat.width, flat.height


def _on_white(image: Image.Image) -> Image.Image:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if not has_alpha:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    background = _pillow()[0].new("RGB", rgba.size, "white")
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def safe_filename(filename: str) -> str:
    """The name as sent, without any folder, control or shell characters, ending in .jpg."""
    name = PurePosixPath(filename.replace("\\", "/")).name
    name = unicodedata.normalize("NFC", name)
    name = " ".join(_UNSAFE_IN_NAME.sub(" ", name).split())
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem.strip(" .")[: 255 - len(".jpg")] or "photo"
    return f"{stem}.jpg"


def photo_response(photo: ClaimPhoto) -> Response:
    """The stored JPEG, shown in the browser (never sniffed as anything else)."""
    response = send_file(
        io.BytesIO(photo.data),
        mimetype=STORED_TYPE,
        download_name=photo.filename,
        as_attachment=False,
        etag=False,
        max_age=None,
    )
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers.pop("Expires", None)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def takes_photos(claim: Claim) -> bool:
    """A closed or cancelled claim takes no more photos."""
    return claim.status not in _CLOSED


def room_for_photos(claim: Claim) -> int:
    """How many more photos ``claim`` takes as it stands (its ``photos`` loaded)."""
    if not takes_photos(claim):
        return 0
    return max(0, MAX_PHOTOS_PER_CLAIM - len(claim.photos))


def _refuse_if_closed(claim: Claim) -> None:
    if not takes_photos(claim):
        raise Conflict(f"The claim is {claim.status}: it takes no more photos.")
