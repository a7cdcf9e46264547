"""Uploads: checked by content, size-limited, re-encoded, kept outside the web root."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import RequestFactory
from PIL import Image

from claims_portal import uploads
from claims_portal.uploads import MB, CappedUploadHandler, ImageLimits
from tests import uploads as u

LIMITS = ImageLimits(max_bytes=2 * MB, max_pixels=4000 * 4000, max_side=512)


@pytest.fixture
def private_root(settings):
    return settings.PRIVATE_MEDIA_ROOT


def _refused(check, upload) -> str:
    with pytest.raises(ValidationError) as caught:
        check(upload)
    return " ".join(caught.value.messages)


def pdf_check(upload):
    return uploads.check_pdf(upload, max_bytes=10 * MB)


def test_it_accepts_a_pdf_by_its_content():
    uploads.check_pdf(u.pdf(name="whatever.bin"), max_bytes=10 * MB)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (u.HTML, "web page"),
        (u.SVG, "web page or other markup"),
        (u.EXE, "a program"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 60, "a program"),
        (b"PK\x03\x04" + b"\x00" * 60, "ZIP archive"),
        (b"plain text, not a document", "cannot read"),
    ],
)
def test_it_refuses_a_pdf_that_is_something_else(content, says):
    message = _refused(pdf_check, u.pdf(name="sow.pdf", content=content))
    assert says in message
    assert "not PDF" in message


def test_it_refuses_a_pdf_cut_short():
    assert "incomplete or damaged" in _refused(pdf_check, u.pdf(content=u.PDF[:120]))


def test_it_refuses_an_empty_file():
    assert "empty" in _refused(pdf_check, u.pdf(content=b""))


def test_it_refuses_a_file_over_the_limit():
    message = _refused(pdf_check, u.big_pdf(11))
    assert "11.0 MB" in message and "10.0 MB" in message


def test_the_handler_keeps_only_what_it_may_and_counts_the_rest(settings):
    settings.UPLOAD_MAX_BYTES = 1 * MB
    handler = CappedUploadHandler(RequestFactory().post("/"))
    handler.new_file("f", "big.pdf", "application/pdf", None)
    chunk = b"x" * (256 * 1024)
    for i in range(12):  # 3 MB sent
        handler.receive_data_chunk(chunk, i * len(chunk))
    received = handler.file_complete(12 * len(chunk))
    assert received.size == 3 * MB
    assert received.complete is False
    received.seek(0, 2)
    assert received.tell() <= 1 * MB  # the rest never reached memory or disk
    message = _refused(pdf_check, received)
    assert "3.0 MB" in message


def test_it_reencodes_a_png_without_its_metadata():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    raw = io.BytesIO()
    Image.new("RGBA", (2000, 1000), (10, 20, 30, 128)).save(raw, format="PNG", pnginfo=info)
    upload = SimpleUploadedFile("logo.png", raw.getvalue(), content_type="image/png")
    fresh = uploads.reencode_image(upload, limits=LIMITS)
    with Image.open(io.BytesIO(fresh.read())) as image:
        assert image.format == "PNG"
        assert image.size == (512, 256)
        assert image.mode == "RGBA"
        assert "Comment" not in image.info


def test_it_reencodes_a_jpeg_as_png():
    upload = SimpleUploadedFile("logo.jpg", u.image("JPEG"), content_type="image/jpeg")
    fresh = uploads.reencode_image(upload, limits=LIMITS)
    with Image.open(io.BytesIO(fresh.read())) as image:
        assert image.format == "PNG"


@pytest.mark.parametrize(
    ("upload", "says"),
    [
        (SimpleUploadedFile("logo.svg", u.SVG, content_type="image/svg+xml"), "markup"),
        (SimpleUploadedFile("logo.png", u.HTML, content_type="image/png"), "web page"),
        (SimpleUploadedFile("logo.gif", u.image("GIF"), content_type="image/gif"), "GIF"),
        (SimpleUploadedFile("logo.png", u.image("PNG")[:60], content_type="image/png"), "read"),
    ],
)
def test_it_refuses_what_is_not_a_raster_png_or_jpeg(upload, says):
    message = _refused(lambda f: uploads.reencode_image(f, limits=LIMITS), upload)
    assert says in message


@pytest.mark.parametrize("side", [30000, 5000])
def test_it_refuses_an_image_bomb_before_decoding_it(side):
    upload = u.bomb(side)
    assert upload.size < 200 * 1024  # small on the wire, refused from its header
    message = _refused(lambda f: uploads.reencode_image(f, limits=LIMITS), upload)
    assert "at most 16 million pixels" in message
    if side == 5000:  # under Pillow's own guard: ours names the size
        assert "5000 × 5000 pixels" in message


def test_it_refuses_an_image_over_the_byte_limit():
    limits = ImageLimits(max_bytes=1024, max_pixels=4000 * 4000, max_side=512)
    message = _refused(lambda f: uploads.reencode_image(f, limits=limits), u.png(size=(900, 900)))
    assert "the limit is 1 KB" in message


def test_private_files_live_outside_the_media_and_static_roots(settings, private_root):
    name = uploads.private_storage().save(
        uploads.sow_upload_to(None, "../../etc/passwd"), ContentFile(u.PDF)
    )
    path = Path(uploads.private_storage().path(name))
    assert path.is_relative_to(private_root)
    assert not path.is_relative_to(Path(settings.MEDIA_ROOT))
    assert not path.is_relative_to(Path(settings.STATIC_ROOT))
    assert "passwd" not in name and name.endswith(".pdf")
    with pytest.raises(ValueError):
        uploads.private_storage().url(name)


def test_a_private_file_is_served_as_a_sandboxed_download():
    name = uploads.private_storage().save("sow/x.pdf", ContentFile(u.PDF))
    response = uploads.serve_private(
        uploads.private_storage(), name, download_name="CLM-1.pdf", content_type="application/pdf"
    )
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == u.PDF
    with pytest.raises(Http404):
        uploads.serve_private(
            uploads.private_storage(),
            "../../../etc/passwd",
            download_name="x",
            content_type="application/pdf",
        )


def test_a_reencoded_image_is_served_as_png_and_nothing_else(client):
    storage = uploads.image_storage()
    name = storage.save("logos/2026/a.png", uploads.reencode_image(u.png(), limits=LIMITS))
    response = client.get(storage.url(name))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert client.get("/files/images/logos/2026/missing.png").status_code == 404
    assert client.get("/files/images/../../settings.py").status_code == 404
    assert client.get("/files/images/logos/2026/a.html").status_code == 404
