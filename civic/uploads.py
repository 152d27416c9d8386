"""Uploaded files: checked, rebuilt and stored under random names.

An uploaded image is never stored as sent. Pillow decodes it (refusing anything that is not
a JPEG, PNG or WebP, or that is too big in bytes or pixels), turns it upright, and encodes a
fresh file without metadata (no EXIF location, no embedded scripts or polyglot payloads).
PDFs cannot be rebuilt that simply: they are checked for their signature and size and
served as downloads, never inline. Files live under MEDIA_ROOT, outside the code, and
``civic.views.media_file`` serves them with a content type taken from our own extension.
"""

import io
import uuid

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow format -> (stored extension, save options). Only these are accepted.
IMAGE_FORMATS = {
    "JPEG": ("jpg", {"quality": 85, "optimize": True}),
    "PNG": ("png", {"optimize": True}),
    "WEBP": ("webp", {"quality": 85}),
}
# Extension -> content type for serving. Nothing else under MEDIA_ROOT is served.
MEDIA_CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "pdf": "application/pdf",
}
PDF_SIGNATURE = b"%PDF-"


def _check_size(upload: File, *, limit: int) -> None:
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            code="too_large",
        )


def _random_name(extension: str) -> str:
    return f"{uuid.uuid4().hex}.{extension}"


def image_reencode(upload: File) -> ContentFile:
    """A fresh JPEG/PNG/WebP built from the pixels of ``upload``, or ValidationError."""
    _check_size(upload, limit=settings.UPLOAD_IMAGE_MAX_BYTES)
    upload.seek(0)
    try:
        with Image.open(upload) as source:
            if source.format not in IMAGE_FORMATS:
                raise ValidationError(
                    _("Upload a JPEG, PNG or WebP image."), code="invalid_image_type"
                )
            width, height = source.size
            if width * height > settings.UPLOAD_IMAGE_MAX_PIXELS:
                raise ValidationError(
                    _("The image is %(width)s×%(height)s pixels; the limit is %(limit)s pixels.")
                    % {"width": width, "height": height, "limit": settings.UPLOAD_IMAGE_MAX_PIXELS},
                    code="too_many_pixels",
                )
            extension, options = IMAGE_FORMATS[source.format]
            image_format = source.format
            upright = ImageOps.exif_transpose(source)
            if image_format == "JPEG" and upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            output = io.BytesIO()
            upright.save(output, format=image_format, **options)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as error:
        raise ValidationError(
            _("The file is not a readable image: upload a JPEG, PNG or WebP image."),
            code="invalid_image",
        ) from error
    return ContentFile(output.getvalue(), name=_random_name(extension))


def document_check(upload: File) -> ContentFile:
    """A PDF as uploaded (signature and size checked) or an image rebuilt like any other."""
    upload.seek(0)
    head = upload.read(len(PDF_SIGNATURE))
    if head != PDF_SIGNATURE:
        return image_reencode(upload)
    _check_size(upload, limit=settings.UPLOAD_DOCUMENT_MAX_BYTES)
    upload.seek(0)
    return ContentFile(upload.read(), name=_random_name("pdf"))


class _RebuiltFileFormField:
    """Form-field behaviour: a newly uploaded file is replaced by its checked rebuild."""

    rebuild = staticmethod(image_reencode)

    def clean(self, data, initial=None):
        value = super().clean(data, initial)
        if isinstance(value, UploadedFile):
            return self.rebuild(value)
        return value


class SafeImageFormField(_RebuiltFileFormField, forms.ImageField):
    pass


class SafeDocumentFormField(_RebuiltFileFormField, forms.FileField):
    rebuild = staticmethod(document_check)


class SafeImageField(models.ImageField):
    """An image column whose forms (admin included) accept only rebuilt JPEG/PNG/WebP."""

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": SafeImageFormField, **kwargs})


class SafeDocumentField(models.FileField):
    """A document column whose forms accept a PDF (checked) or an image (rebuilt)."""

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": SafeDocumentFormField, **kwargs})
