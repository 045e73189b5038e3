"""Attachments served only to those who may see their ticket (and update); 404 for everyone else."""

import os

from flask import Blueprint, abort, send_file

from app import file_names, identity, policy
from app.extensions import db
from app.models import Attachment, Update
from app.services import uploads

bp = Blueprint("files", __name__)

FILE_POLICY = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"


def _visible_attachment(attachment_id):
    """The attachment if the current actor may fetch it, else 404."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.ticket is None:
        abort(404)
    update = db.session.get(Update, attachment.update_id) if attachment.update_id else None
    in_message = attachment.message_id is not None
    if not policy.can_view_attachment(identity.current_actor(), attachment.ticket, update, in_message=in_message):
        abort(404)
    return attachment


def _send(name, mimetype, *, inline, download_name):
    """Stream a stored file with headers that keep browsers from running it."""
    path = os.path.join(uploads.folder(), name or "")
    if not name or not os.path.isfile(path):
        abort(404)
    response = send_file(
        path,
        mimetype=mimetype,
        as_attachment=not inline,
        download_name=download_name,
        conditional=True,
        max_age=3600,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_POLICY
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/files/<int:attachment_id>")
def download(attachment_id):
    """The file itself: inline for images, audio and video, as a download for everything else."""
    attachment = _visible_attachment(attachment_id)
    return _send(
        attachment.stored_name,
        attachment.content_type,
        inline=uploads.is_inline(attachment.content_type),
        download_name=file_names.clean(attachment.original_name) or "file",
    )


@bp.get("/files/<int:attachment_id>/view")
def view(attachment_id):
    """The picture for the browser to show: the JPEG view of a HEIC photo, else the file as `download` sends it."""
    attachment = _visible_attachment(attachment_id)
    if attachment.view_name and os.path.isfile(os.path.join(uploads.folder(), attachment.view_name)):
        name = os.path.splitext(file_names.clean(attachment.original_name))[0] or "photo"
        return _send(attachment.view_name, "image/jpeg", inline=True, download_name=f"{name}.jpg")
    return download(attachment_id)


@bp.get("/files/<int:attachment_id>/thumb")
def thumb(attachment_id):
    """The JPEG thumbnail made at upload time."""
    attachment = _visible_attachment(attachment_id)
    if not attachment.thumbnail_name:
        abort(404)
    return _send(
        attachment.thumbnail_name,
        "image/jpeg",
        inline=True,
        download_name="thumbnail.jpg",
    )
