"""Uploads: type checked by content, size limited, stored under random names, thumbnails made with Pillow."""
import io
import os
import secrets
import zipfile

from flask import current_app
from flask_babel import gettext as _

from app import file_names
from app.extensions import db
from app.models import Attachment, Organisation
from app.services import images, photo_metadata
from app.services.errors import ValidationError
from app.services.ticket_changes import actor_fields

HEAD_BYTES = 4096

# What we accept, by detected type: (extension on disk, served inline?)
ALLOWED = {
    "image/jpeg": ("jpg", True),
    "image/png": ("png", True),
    "image/gif": ("gif", True),
    "image/webp": ("webp", True),
    "image/heic": ("heic", False),
    "video/mp4": ("mp4", True),
    "video/quicktime": ("mov", True),
    "video/webm": ("webm", True),
    "audio/webm": ("weba", True),
    "audio/ogg": ("ogg", True),
    "audio/mpeg": ("mp3", True),
    "audio/mp4": ("m4a", True),
    "audio/wav": ("wav", True),
    "application/pdf": ("pdf", False),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx", False),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx", False),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("pptx", False),
    "application/vnd.oasis.opendocument.text": ("odt", False),
    "application/vnd.oasis.opendocument.spreadsheet": ("ods", False),
    "application/msword": ("doc", False),
}
ALLOWED_DESCRIPTION = "JPEG, PNG, GIF, WebP, HEIC, MP4, MOV, WebM, MP3, M4A, OGG, WAV, PDF, Word, Excel, PowerPoint, OpenDocument"
ACCEPT_ATTRIBUTE = "image/*,video/*,audio/*,.pdf,.doc,.docx,.xlsx,.pptx,.odt,.ods"


def _iso_media_type(head):
    """Brand of an ISO base media file (MP4/MOV/M4A/HEIC)."""
    if head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        return "image/heic"
    if brand == b"qt  ":
        return "video/quicktime"
    if brand in (b"M4A ", b"M4B "):
        return "audio/mp4"
    return "video/mp4"


def _zip_type(data):
    """OOXML or OpenDocument by the files inside the archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
                return mimetype if mimetype in ALLOWED else None
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    prefixes = {
        "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
    for prefix, mimetype in prefixes.items():
        if any(name.startswith(prefix) for name in names):
            return mimetype
    return None


def sniff(data, *, audio_hint=False):
    """The content type of `data` judged by its bytes, or None when it is not on the allowed list."""
    head = data[:HEAD_BYTES]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        if b"webm" not in head[:64]:
            return None
        return "audio/webm" if audio_hint or b"V_" not in head else "video/webm"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/msword"
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(data)
    return _iso_media_type(head)


def upload_limit_bytes():
    """The organisation's upload limit, else the configured default."""
    org = Organisation.settings()
    megabytes = (org.upload_limit_mb if org and org.upload_limit_mb else None) or current_app.config["UPLOAD_LIMIT_MB"]
    return int(megabytes) * 1024 * 1024


def folder():
    """Where uploads live (instance/uploads by default)."""
    return current_app.config["UPLOAD_FOLDER"]


def store_upload(file_storage, *, ticket, actor, audio_hint=False):
    """Check and store one uploaded file for `ticket`; returns the (flushed) Attachment.

    Images get a JPEG thumbnail (upright by their EXIF orientation); a HEIC photo also gets a JPEG view beside
    the original (`Attachment.view_name`), as browsers other than Safari cannot show HEIC. JPEG and HEIC photos
    are stored without their location (photo_metadata.strip_location). Raises ValidationError on `files` (too large, empty, not an
    allowed type, an unreadable image, more than MAX_IMAGE_PIXELS)."""
    original = file_names.clean(os.path.basename(file_storage.filename or ""))[:255] or _("file")
    limit = upload_limit_bytes()
    data = file_storage.stream.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(
            _("“%(name)s” is larger than %(mb)d MB.", name=original, mb=limit // (1024 * 1024)), field="files"
        )
    if not data:
        raise ValidationError(_("“%(name)s” is empty.", name=original), field="files")
    content_type = sniff(data, audio_hint=audio_hint)
    if content_type is None:
        raise ValidationError(
            _("“%(name)s” is not a supported file type. Allowed: %(types)s.", name=original, types=ALLOWED_DESCRIPTION),
            field="files",
        )
    attachment = Attachment(
        ticket_id=ticket.id,
        stored_name=f"{secrets.token_urlsafe(24)}.{ALLOWED[content_type][0]}",
        original_name=original,
        content_type=content_type,
        **actor_fields(actor, "uploader"),
    )
    if content_type.startswith("image/"):
        images.check_readable(data, original)
        data = photo_metadata.strip_location(data, content_type)
        view = images.scaled_jpeg(data, original, box=images.VIEW_SIZE, quality=85) if attachment.view_name else None
        thumbnail = images.scaled_jpeg(view or data, original)  # from the view: a HEIC is decoded once
        attachment.thumbnail_name = f"{secrets.token_urlsafe(24)}.thumb.jpg"
    attachment.size = len(data)
    _write(attachment.stored_name, data)
    if attachment.thumbnail_name:
        _write(attachment.thumbnail_name, thumbnail)
    if attachment.view_name:
        _write(attachment.view_name, view)
    db.session.add(attachment)
    db.session.flush()
    return attachment


def _write(name, content):
    """Write one stored file into the upload folder."""
    with open(os.path.join(folder(), name), "wb") as handle:
        handle.write(content)


def max_files():
    """How many files one message, update or media answer may hold (MAX_FILES_PER_MESSAGE)."""
    return int(current_app.config["MAX_FILES_PER_MESSAGE"])


def check_file_count(count, *, field="files"):
    """Refuse `count` files for one message, update or media answer when it is over max_files().

    Raises ValidationError (422) on `field`, naming the limit; call it before anything is stored."""
    limit = max_files()
    if count > limit:
        raise ValidationError(
            _("At most %(limit)d files can be attached here; these are %(count)d.", limit=limit, count=count),
            field=field,
        )


def store_uploads(files, *, ticket, actor, audio_hint=False, already=0):
    """Store several uploads; all or nothing.

    `already`: files the message, update or answer holds besides these; together they may be at most
    max_files(), else ValidationError before any file is read."""
    files = [file_storage for file_storage in files if file_storage and file_storage.filename]
    check_file_count(already + len(files))
    stored = []
    try:
        for file_storage in files:
            stored.append(store_upload(file_storage, ticket=ticket, actor=actor, audio_hint=audio_hint))
    except ValidationError:
        remove_files(stored)
        for attachment in stored:
            db.session.delete(attachment)
        db.session.flush()
        raise
    return stored


def remove_files(attachments):
    """Delete stored files (after their rows are gone): the original, its thumbnail and its JPEG view."""
    for attachment in attachments:
        for name in (attachment.stored_name, attachment.thumbnail_name, attachment.view_name):
            if name:
                try:
                    os.remove(os.path.join(folder(), name))
                except FileNotFoundError:
                    pass


def is_inline(content_type):
    """Whether the browser may show the file inline (images, audio, video); everything else downloads."""
    return ALLOWED.get(content_type, ("", False))[1]
