"""Pictures the administration stores beside the uploads: device pictures and the organisation's logo."""
import os
import secrets

from flask_babel import gettext as _

from app import file_names
from app.services import images, uploads
from app.services.errors import ValidationError

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
LOGO_LIMIT_BYTES = 2 * 1024 * 1024


def store_device_picture(file_storage):
    """Check an uploaded device picture, store it as a JPEG of at most 1200 px; its file name, or None without file.

    Raises ValidationError on `picture` when it is too large (bytes, or pixels over MAX_IMAGE_PIXELS), not an
    image or unreadable.
    """
    if file_storage is None or not file_storage.filename:
        return None
    limit = uploads.upload_limit_bytes()
    data = file_storage.stream.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(_("The picture is larger than %(mb)d MB.", mb=limit // (1024 * 1024)), field="picture")
    if uploads.sniff(data) not in IMAGE_TYPES:
        raise ValidationError(_("Please choose a JPEG, PNG, GIF or WebP picture."), field="picture")
    name = file_names.clean(os.path.basename(file_storage.filename)) or _("file")
    picture = images.scaled_jpeg(data, name, box=(1200, 1200), quality=85, field="picture")
    return _write(f"{secrets.token_urlsafe(24)}.device.jpg", picture)


def store_logo(file_storage):
    """Check and store an uploaded logo image as it came; its file name, or None without file.

    Raises ValidationError on `logo` when it is over 2 MB, not a PNG, JPEG, GIF or WebP image, broken, or over
    MAX_IMAGE_PIXELS (browsers decode it on every page).
    """
    if file_storage is None or not file_storage.filename:
        return None
    data = file_storage.stream.read(LOGO_LIMIT_BYTES + 1)
    if len(data) > LOGO_LIMIT_BYTES:
        raise ValidationError(_("The logo may be at most 2 MB."), field="logo")
    content_type = uploads.sniff(data)
    if content_type not in IMAGE_TYPES:
        raise ValidationError(_("Please choose a PNG, JPEG, GIF or WebP image as logo."), field="logo")
    images.check_readable(data, file_names.clean(os.path.basename(file_storage.filename)) or _("file"), field="logo")
    return _write(f"{secrets.token_urlsafe(24)}.logo.{uploads.ALLOWED[content_type][0]}", data)


def _write(name, data):
    """Write `data` to the upload folder as `name`; returns the name."""
    with open(os.path.join(uploads.folder(), name), "wb") as handle:
        handle.write(data)
    return name


def remove(name):
    """Delete a stored picture, if any (a missing file is fine)."""
    if name:
        try:
            os.remove(os.path.join(uploads.folder(), name))
        except FileNotFoundError:
            pass
