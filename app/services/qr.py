"""QR codes for code URLs, as SVG and PNG (qrcode and Pillow are imported when a code is drawn)."""
import io

from flask import current_app, has_request_context, request

from app.models import Organisation


def public_base_url():
    """The external base URL: organisation setting, then PUBLIC_BASE_URL, then the request's host."""
    org = Organisation.settings()
    base = (org.public_base_url if org else None) or current_app.config.get("PUBLIC_BASE_URL")
    if not base and has_request_context():
        base = request.url_root
    return (base or "http://localhost").rstrip("/")


def code_url(code):
    """What the QR encodes: {base}/c/{token}."""
    return f"{public_base_url()}/c/{code.token}"


def _qr(data):
    """A QR code object with medium error correction."""
    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=10)
    qr.add_data(data)
    qr.make(fit=True)
    return qr


def svg(data):
    """The QR code as SVG bytes (one path, scalable)."""
    import qrcode.image.svg

    image = _qr(data).make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def png(data, box_size=10):
    """The QR code as PNG bytes."""
    qr = _qr(data)
    qr.box_size = box_size
    image = qr.make_image(fill_color="black", back_color="white")
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def svg_data_uri(data):
    """The QR as an inline data: URI (SVG), for pages that show many codes at once."""
    import base64

    return "data:image/svg+xml;base64," + base64.b64encode(svg(data)).decode("ascii")


def png_data_uri(data, box_size=6):
    """The QR as an inline data: URI (PNG), for a code shown once and never stored as a file."""
    import base64

    return "data:image/png;base64," + base64.b64encode(png(data, box_size=box_size)).decode("ascii")
