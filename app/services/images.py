"""Images read within bounds: renditions (thumbnails, device pictures) made without decoding a bomb.

A small file can describe a huge picture: an 11,000 × 11,000 PNG of 344 KB decodes to about 480 MB (Pillow keeps
most modes at 4 bytes a pixel). So the pixel count is read from the header first (`Image.open` is lazy) and
anything above MAX_IMAGE_PIXELS is refused before `load()`; Pillow's own decompression-bomb check is set to the
same limit and counts as a refusal too. JPEGs decode at a reduced scale (`draft`), other formats are reduced by
whole factors (`reduce`) before the smooth resize, so only the decoded original is ever held at full size.

Pillow and pillow-heif are imported in the functions that read images, not at module load: most requests never
touch an image. HEIC/HEIF (what iPhones and many Android phones take) is read by pillow-heif (libheif). Browsers other than Safari cannot show HEIC, so such a photo
gets a JPEG view beside the original (VIEW_SIZE) as well as its thumbnail.
"""
import functools
import io

from flask import current_app
from flask_babel import gettext as _

from app.services.errors import ValidationError

THUMBNAIL_SIZE = (480, 480)
STRIP_PIXELS = 1_000_000  # pixels converted and reduced at a time (about 4 MB)
VIEW_SIZE = (2048, 2048)  # the JPEG shown instead of a HEIC original: sharp on a phone, a few hundred KB


def read_errors():
    """What Pillow raises for a broken or hostile file (a tuple for `except`)."""
    from PIL import Image, UnidentifiedImageError

    return (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    )


def max_pixels():
    """The largest image accepted, in pixels (width × height), from MAX_IMAGE_PIXELS."""
    return int(current_app.config["MAX_IMAGE_PIXELS"])


def unreadable(name, field):
    """The refusal of a file that is not a readable image."""
    return ValidationError(_("“%(name)s” is not a readable image.", name=name), field=field)


def too_large(name, field):
    """The refusal of an image with more pixels than max_pixels()."""
    return ValidationError(
        _("“%(name)s” is too large an image: at most %(mp)d megapixels are accepted.", name=name, mp=max_pixels() // 1_000_000),
        field=field,
    )


def check_size(image, name, field):
    """Refuse an opened (not yet decoded) image whose header names more than max_pixels(); ValidationError on `field`."""
    width, height = image.size
    if width * height > max_pixels():
        raise too_large(name, field)


@functools.cache
def register_heif():
    """Teach Pillow to open HEIC/HEIF (pillow-heif), once per process; imported here, not at module load."""
    import pillow_heif

    pillow_heif.options.THUMBNAILS = False  # decode only the primary picture; nothing else is used
    pillow_heif.options.DEPTH_IMAGES = False
    pillow_heif.options.AUX_IMAGES = False
    pillow_heif.register_heif_opener()


def _open(data, name, field):
    """Open `data` lazily (header only) and check its pixel count; raises ValidationError on `field`."""
    from PIL import Image

    if data[4:8] == b"ftyp":  # an ISO media file: HEIC is one (sniffing decided it is an image)
        register_heif()
    Image.MAX_IMAGE_PIXELS = max_pixels()  # Pillow's own check at open: a warning above this, an error at twice it
    try:
        image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large(name, field) from None
    except read_errors():
        raise unreadable(name, field) from None
    try:
        check_size(image, name, field)
    except ValidationError:
        image.close()
        raise
    return image


def check_readable(data, name, *, field="files"):
    """Refuse an image that is too large (from its header) or broken (Pillow's verify), without decoding it.

    Raises ValidationError on `field`."""
    image = _open(data, name, field)
    try:
        with image:
            image.verify()
    except read_errors():
        raise unreadable(name, field) from None


def scaled_jpeg(data, name, *, box=THUMBNAIL_SIZE, quality=80, field="files"):
    """A JPEG of the image in `data` fitted into `box` (pixels), turned upright by its EXIF orientation.

    No metadata is carried over (no EXIF, so no location). Memory stays near the decoded original of at most
    max_pixels(). Raises ValidationError on `field` when the image is too large or unreadable."""
    image = _open(data, name, field)
    try:
        with image:
            small = _fit(image, box, data)
        out = io.BytesIO()
        small.save(out, "JPEG", quality=quality, optimize=True)
        return out.getvalue()
    except read_errors():
        raise unreadable(name, field) from None


def _fit(image, box, data):
    """Decode `image` as small as its format allows, fit it into `box`, apply its orientation; an RGB or L image."""
    from PIL import ImageOps

    if image.format == "HEIF":
        return _fit_heif(data, box)
    if image.format == "JPEG":
        image.draft("RGB", box)  # the decoder skips detail (1/2 … 1/8 scale) while the result still covers box
    orientation = image.getexif().get(0x0112)
    image.load()
    width, height = image.size
    mode = "L" if image.mode in ("1", "L") else "RGB"
    if image.mode == mode and _factor(width, height, box) == 1:
        small = image  # small enough already: no copy before the resize
        small.thumbnail(box)
    else:
        small = _reduced(lambda top, bottom: image.crop((0, top, width, bottom)), width, height, box, mode)
    if orientation:
        small.getexif()[0x0112] = orientation
        small = ImageOps.exif_transpose(small)
    return small


def _fit_heif(data, box):
    """A HEIC/HEIF fitted into `box`, read strip by strip from libheif's decoded buffer.

    Pillow's plugin copies the decoded picture into an image of its own (4 bytes a pixel beside libheif's 3);
    strips of the buffer avoid that copy. libheif has already applied the HEIF rotation and mirroring (EXIF
    orientation does not apply to HEIF)."""
    import pillow_heif
    from PIL import Image

    heif = pillow_heif.open_heif(data, convert_hdr_to_8bit=True)
    width, height = heif.size
    mode, stride, pixels = heif.mode, heif.stride, memoryview(heif.data)

    def rows(top, bottom):
        """Rows top…bottom of the decoded buffer as an image sharing its memory."""
        return Image.frombuffer(mode, (width, bottom - top), pixels[top * stride : bottom * stride], "raw", mode, stride, 1)

    return _reduced(rows, width, height, box, "RGB")


def _factor(width, height, box):
    """The whole factor a picture can be shrunk by and still cover `box`."""
    return max(1, min(width // box[0], height // box[1]))


def _reduced(rows, width, height, box, mode):
    """The picture `rows(top, bottom)` yields strip by strip, in `mode`, fitted into `box`.

    It is first shrunk by a whole factor (block averages) strip by strip: converting or reducing the whole picture
    at once would copy it at full size (and `reduce` premultiplies images with alpha into another full copy);
    strips keep the extra memory to a few rows. The smooth resize then works on the small picture."""
    from PIL import Image

    factor = _factor(width, height, box)
    out = Image.new(mode, (width // factor, height // factor))
    step = max(factor, STRIP_PIXELS // width // factor * factor)  # whole blocks of about STRIP_PIXELS pixels
    for top in range(0, out.height * factor, step):
        bottom = min(top + step, out.height * factor)
        strip = rows(top, bottom).crop((0, 0, out.width * factor, bottom - top)).convert(mode)
        out.paste(strip.reduce(factor) if factor > 1 else strip, (0, top // factor))
    out.thumbnail(box)
    return out
