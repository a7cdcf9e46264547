"""Uploaded files: checked by content, size-limited, stored outside the web root.

Every upload the portal keeps goes through here:

- `CappedUploadHandler` (settings.FILE_UPLOAD_HANDLERS) receives a file up to
  UPLOAD_MAX_BYTES and only counts the rest, so a huge upload never fills the disk and the
  form can still say how large it was;
- `check_file(upload, kinds=..., max_bytes=...)` accepts a document by what its bytes are
  (`sniff`), never by its name or the browser's content type;
- `reencode_image(...)` opens a raster image only after reading its size from the header
  (an image bomb is refused before it is decoded), and writes a fresh PNG without metadata;
- `private_storage()` keeps files under PRIVATE_MEDIA_ROOT with random names; nothing serves
  that folder, so a file leaves only through a view that checked who asks
  (`serve_private`). Re-encoded images for everyone to see (logos) are in
  `image_storage()`, served by `claims_portal.views.uploaded_image`.
"""

from __future__ import annotations

import io
import os
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

MB = 1024 * 1024

# --- Receiving -------------------------------------------------------------------------


class CappedUploadedFile(UploadedFile):
    """An uploaded file; `size` is what was sent, `complete` whether all of it was kept."""

    def __init__(self, file: IO[bytes], *, complete: bool, **kwargs: Any) -> None:
        super().__init__(file, **kwargs)
        self.complete = complete


class CappedUploadHandler(FileUploadHandler):
    """Keeps each file up to UPLOAD_MAX_BYTES (in memory while small, then on disk)."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.file = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed with the upload)
            max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE,
            dir=settings.FILE_UPLOAD_TEMP_DIR,
        )
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.received <= settings.UPLOAD_MAX_BYTES:
            self.file.write(raw_data)
        # Nothing is passed on: this handler is the only one.
        return None

    def file_complete(self, file_size: int) -> CappedUploadedFile:
        self.file.seek(0)
        return CappedUploadedFile(
            self.file,
            complete=self.received <= settings.UPLOAD_MAX_BYTES,
            name=self.file_name,
            content_type=self.content_type,
            size=self.received,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


# --- Checking --------------------------------------------------------------------------


def human_size(size: int) -> str:
    if size >= MB:
        return _("%(n).1f MB") % {"n": size / MB}
    if size >= 1024:
        return _("%(n)d KB") % {"n": size // 1024}
    return _("%(n)d bytes") % {"n": size}


# What the first bytes of a file say it is. Names for the refusal messages too.
_SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"MZ", "executable"),
    (b"\x7fELF", "executable"),
    (b"\xca\xfe\xba\xbe", "executable"),
    (b"\xcf\xfa\xed\xfe", "executable"),
    (b"#!", "executable"),
    (b"PK\x03\x04", "zip"),
    (b"\xd0\xcf\x11\xe0", "office"),
]
_MARKUP = (b"<!doctype", b"<html", b"<?xml", b"<svg", b"<script", b"<head", b"<body", b"<")

KIND_LABELS = {
    "pdf": gettext_lazy("a PDF document"),
    "png": gettext_lazy("a PNG image"),
    "jpeg": gettext_lazy("a JPEG image"),
    "gif": gettext_lazy("a GIF image"),
    "executable": gettext_lazy("a program"),
    "zip": gettext_lazy("a ZIP archive or Office document"),
    "office": gettext_lazy("an old-style Office document"),
    "markup": gettext_lazy("a web page or other markup (HTML, SVG, XML)"),
    "empty": gettext_lazy("empty"),
    "unknown": gettext_lazy("of a kind we cannot read"),
}


def _head(upload: File, size: int = 2048) -> bytes:
    upload.seek(0)
    head = upload.read(size)
    upload.seek(0)
    return head


def sniff(upload: File) -> str:
    """What the file's bytes say it is: a key of KIND_LABELS."""
    head = _head(upload)
    if not head:
        return "empty"
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(_MARKUP):
        return "markup"
    return "unknown"


def _kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, KIND_LABELS["unknown"]))


def check_size(upload: UploadedFile, *, max_bytes: int) -> None:
    size = upload.size or 0
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    if size > max_bytes or not getattr(upload, "complete", True):
        raise ValidationError(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": human_size(size), "limit": human_size(max_bytes)},
            code="too_large",
        )


def _pdf_is_whole(upload: File) -> bool:
    # A PDF ends with %%EOF (followed by at most a little whitespace); a cut-off upload
    # or a file that only starts like a PDF does not.
    upload.seek(0, os.SEEK_END)
    end = upload.tell()
    upload.seek(max(0, end - 2048))
    tail = upload.read()
    upload.seek(0)
    return b"%%EOF" in tail


def check_file(upload: UploadedFile, *, kinds: Iterable[str], max_bytes: int) -> str:
    """Accept `upload` if its content is one of `kinds` and it is small enough; its kind."""
    check_size(upload, max_bytes=max_bytes)
    allowed = set(kinds)
    kind = sniff(upload)
    if kind not in allowed:
        wanted = " / ".join(sorted(k.upper() for k in allowed))
        raise ValidationError(
            _("This file is %(kind)s, not %(wanted)s. Choose the %(wanted)s file itself.")
            % {"kind": _kind_label(kind), "wanted": wanted},
            code="wrong_kind",
        )
    if kind == "pdf" and not _pdf_is_whole(upload):
        raise ValidationError(
            _("This PDF is incomplete or damaged. Save it again and upload the new file."),
            code="damaged",
        )
    return kind


def check_pdf(upload: UploadedFile, *, max_bytes: int) -> None:
    check_file(upload, kinds=["pdf"], max_bytes=max_bytes)


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 2 * MB
    # Width × height, read from the header before anything is decoded.
    max_pixels: int = 4000 * 4000
    # The re-encoded image fits in a square of this side.
    max_side: int = 512


def _too_many_pixels(limits: ImageLimits) -> str:
    return _(
        "Images may have at most %(limit)s million pixels; scale it down and upload it again."
    ) % {"limit": f"{limits.max_pixels / 1e6:g}"}


def reencode_image(upload: UploadedFile, *, limits: ImageLimits) -> ContentFile:
    """A fresh PNG of the uploaded PNG or JPEG: metadata dropped, scaled to fit."""
    check_file(upload, kinds=["png", "jpeg"], max_bytes=limits.max_bytes)
    upload.seek(0)
    try:
        with Image.open(upload, formats=["PNG", "JPEG"]) as image:
            width, height = image.size
            if width * height > limits.max_pixels:
                raise ValidationError(
                    _("The image is %(w)d × %(h)d pixels.") % {"w": width, "h": height}
                    + " "
                    + _too_many_pixels(limits),
                    code="too_many_pixels",
                )
            image.load()
            upright = ImageOps.exif_transpose(image)
            has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
            fresh = upright.convert("RGBA" if has_alpha else "RGB")
            fresh.thumbnail((limits.max_side, limits.max_side))
            out = io.BytesIO()
            fresh.save(out, format="PNG", optimize=True)
    except ValidationError:
        raise
    except Image.DecompressionBombError as exc:
        # Pillow's own guard, for sizes far beyond ours: refused from the header as well.
        raise ValidationError(_too_many_pixels(limits), code="too_many_pixels") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ValidationError(
            _("This image could not be read (%(why)s). Save it as PNG or JPEG and try again.")
            % {"why": exc.__class__.__name__},
            code="unreadable",
        ) from exc
    finally:
        upload.seek(0)
    return ContentFile(out.getvalue(), name="image.png")


# --- Storing -----------------------------------------------------------------------------


@deconstructible
class PrivateStorage(FileSystemStorage):
    """Files under PRIVATE_MEDIA_ROOT/<folder>, read when used (tests may move it)."""

    def __init__(self, folder: str = "", **kwargs: Any) -> None:
        self.folder = folder
        super().__init__(**kwargs)

    @property
    def base_location(self) -> str:
        return str(Path(settings.PRIVATE_MEDIA_ROOT) / self.folder)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise ValueError("Private files have no URL; serve them through a view.")


@deconstructible
class ImageStorage(PrivateStorage):
    """Re-encoded images anyone may see (logos): each has a URL served by `image`."""

    def url(self, name: str | None) -> str:
        return reverse("uploaded_image", args=[name])

    def open_image(self, name: str) -> File:
        """An image this storage holds; only the portal writes here, always PNG."""
        if not name.endswith(".png"):
            raise Http404("No such image")
        try:
            return self.open(name, "rb")
        except (FileNotFoundError, SuspiciousFileOperation) as exc:
            raise Http404("No such image") from exc


_PRIVATE = PrivateStorage("documents")
_IMAGES = ImageStorage("images")


def private_storage() -> PrivateStorage:
    return _PRIVATE


def image_storage() -> ImageStorage:
    return _IMAGES


def random_name(folder: str, suffix: str) -> str:
    """A name that says nothing of the uploader's file name and cannot be guessed."""
    return f"{folder}/{timezone.now():%Y}/{uuid.uuid4().hex}{suffix}"


def sow_upload_to(instance: Any, filename: str) -> str:
    return random_name("sow", ".pdf")


def logo_upload_to(instance: Any, filename: str) -> str:
    return random_name("logos", ".png")


def serve_private(
    storage: FileSystemStorage, name: str, *, download_name: str, content_type: str
) -> FileResponse:
    """The file as a download; the caller has checked who asks."""
    try:
        handle = storage.open(name, "rb")
    except (FileNotFoundError, SuspiciousFileOperation) as exc:
        raise Http404("No such file") from exc
    response = FileResponse(
        handle, as_attachment=True, filename=download_name, content_type=content_type
    )
    # Never rendered as a page of the portal, whatever the bytes hold; never cached on the way.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
