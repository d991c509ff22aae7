"""Decode an evidence photo once: content hash, perceptual hash, thumbnail and a browser view.

The perceptual hash (imagehash's DCT pHash, 64 bits) is taken after EXIF orientation is
applied, so a photo re-saved at another JPEG quality, rotated by its tag or shrunk still hashes
within a few bits of the original. HEIC originals are kept as they are; browsers cannot show
them, so a JPEG view is made beside them.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import imagehash
from PIL import Image, ImageOps, UnidentifiedImageError

from geo.photo import PhotoError, PhotoMeta, read_photo_meta

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp")
BROWSER_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
THUMB_SIZE = (320, 320)
VIEW_SIZE = (2048, 2048)


@dataclass(frozen=True)
class PreparedPhoto:
    """A decoded photo: its metadata, hashes, and the JPEG bytes made for display."""

    meta: PhotoMeta
    sha256: str
    phash: str
    mime: str
    thumbnail: bytes
    view: bytes | None  # a JPEG for browsers when the original is not one they show


def _jpeg(image: Image.Image, size: tuple[int, int]) -> bytes:
    """Return a JPEG of the image fitted inside ``size``."""
    copy = image.convert("RGB")
    copy.thumbnail(size)
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=85)
    return out.getvalue()


def prepare_photo(data: bytes, *, declared_datum: str | None = None) -> PreparedPhoto:
    """Read, hash and thumbnail one photo; raise ``PhotoError`` if it is not a readable image."""
    meta = read_photo_meta(data, declared_datum=declared_datum)
    try:
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise PhotoError(f"图片无法解码：{exc}") from exc
    mime = BROWSER_FORMATS.get(meta.format, "image/heic" if meta.format == "HEIF" else "")
    if not mime:
        raise PhotoError(f"不支持的图片格式：{meta.format or '未知'}（可用 JPEG、PNG、HEIC、WebP）")
    return PreparedPhoto(
        meta=meta,
        sha256=hashlib.sha256(data).hexdigest(),
        phash=str(imagehash.phash(image)),
        mime=mime,
        thumbnail=_jpeg(image, THUMB_SIZE),
        view=None if meta.format in BROWSER_FORMATS else _jpeg(image, VIEW_SIZE),
    )
