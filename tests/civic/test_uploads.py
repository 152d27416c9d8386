"""Uploaded images and documents: checked, rebuilt without metadata, served safely."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from civic.uploads import document_check, image_reencode
from rewards.models import Reward
from tests.rewards.factories import RewardFactory


def image_bytes(image_format="JPEG", size=(40, 30), exif=True) -> bytes:
    image = Image.new("RGB", size, "tomato")
    output = io.BytesIO()
    if exif:
        metadata = Image.Exif()
        metadata[0x010F] = "SecretCam"  # Make
        metadata[0x0112] = 6  # Orientation: rotate 90°
        image.save(output, format=image_format, exif=metadata.tobytes())
    else:
        image.save(output, format=image_format)
    return output.getvalue()


def upload(content: bytes, name="photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def test_an_image_is_rebuilt_upright_without_metadata_under_a_random_name():
    rebuilt = image_reencode(upload(image_bytes()))
    with Image.open(io.BytesIO(rebuilt.read())) as image:
        assert image.format == "JPEG"
        assert image.size == (30, 40)  # turned upright by its orientation tag
        assert dict(image.getexif()) == {}
    assert rebuilt.name.endswith(".jpg")
    assert "photo" not in rebuilt.name


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<script>alert(1)</script>", "not a readable image"),
        (image_bytes("GIF", exif=False), "JPEG, PNG or WebP"),
        (image_bytes("PNG", size=(400, 300), exif=False), "limit is 1000 pixels"),
    ],
)
def test_what_is_not_an_accepted_image_is_refused_with_the_reason(settings, content, message):
    settings.UPLOAD_IMAGE_MAX_PIXELS = 1000
    with pytest.raises(ValidationError, match=message):
        image_reencode(upload(content))


def test_an_image_over_the_byte_limit_is_refused_before_decoding(settings):
    settings.UPLOAD_IMAGE_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="the limit is 100"):
        image_reencode(upload(image_bytes()))


def test_a_pdf_is_kept_and_anything_else_must_be_an_image():
    pdf = document_check(upload(b"%PDF-1.7\n...", name="plan.pdf"))
    assert pdf.name.endswith(".pdf")
    assert pdf.read() == b"%PDF-1.7\n..."
    assert document_check(upload(image_bytes(), name="plan.pdf")).name.endswith(".jpg")
    with pytest.raises(ValidationError, match="not a readable image"):
        document_check(upload(b"<html><script>", name="plan.pdf"))


@pytest.mark.django_db
def test_the_admin_stores_the_rebuilt_image_and_refuses_a_fake(admin_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    reward = RewardFactory(cost=10)
    url = reverse("admin:rewards_reward_change", args=[reward.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update(title="Билет", category="theatre", cost="10", stock_change="0")

    refused = admin_client.post(url, {**data, "image": upload(b"GIF89a<script>")})
    assert refused.status_code == 200
    assert "not a readable image" in refused.content.decode() or "изображени" in (
        refused.content.decode()
    )

    saved = admin_client.post(url, {**data, "image": upload(image_bytes(), name="me.jpg")})
    assert saved.status_code == 302
    stored = Reward.objects.get(pk=reward.pk).image
    assert stored.name.startswith("rewards/") and "me" not in stored.name
    with Image.open(stored.path) as image:
        assert dict(image.getexif()) == {}


@pytest.mark.django_db
def test_media_is_served_with_our_content_type_and_pdfs_download(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "plan.pdf").write_bytes(b"%PDF-1.7")
    (tmp_path / "docs" / "page.html").write_bytes(b"<script>alert(1)</script>")
    (tmp_path / "docs" / "photo.jpg").write_bytes(image_bytes())

    photo = client.get(reverse("media_file", args=["docs/photo.jpg"]))
    assert photo["Content-Type"] == "image/jpeg"
    assert photo["Content-Disposition"].startswith("inline")
    pdf = client.get(reverse("media_file", args=["docs/plan.pdf"]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("attachment")
    assert "sandbox" in pdf["Content-Security-Policy"]
    assert client.get(reverse("media_file", args=["docs/page.html"])).status_code == 404
    assert client.get("/media/../civic/settings.py").status_code == 404
