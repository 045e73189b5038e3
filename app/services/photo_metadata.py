"""Where a photo was taken is not passed on: GPS EXIF and location-bearing metadata removed from JPEG and HEIC.

A phone writes the position into every photo (the EXIF GPS IFD, often XMP too). Anyone who downloads the photo
from a ticket would learn where the reporter stood, or lives. So before a JPEG or HEIC photo is stored:

- the GPS IFD is removed from the EXIF block in place: its entries and values are zeroed and its pointer (tag
  0x8825) is taken out of IFD0. Nothing moves, so a HEIC's item offsets stay valid and the picture data is not
  touched (no re-encoding, no quality lost); every other tag (orientation, camera, time) stays;
- XMP packets (which may repeat the position) are dropped from a JPEG and blanked in a HEIC; a JPEG's
  Photoshop/IPTC block (city, sub-location) is dropped;
- the result is read back with Pillow; should a GPS IFD still be found (a layout this code does not know), the
  photo is encoded again without it.

Layouts: JPEG markers (ITU T.81), TIFF 6.0 IFDs, ISO/IEC 14496-12 boxes (`meta`, `iinf`/`infe`, `iloc`, `idat`)
and ISO/IEC 23008-12 Exif items (a 4-byte offset to the TIFF header, then the EXIF block).
"""
import io
import struct

from app.services.images import register_heif

GPS_IFD = 0x8825
# Bytes per value of each TIFF field type (BYTE, ASCII, SHORT, LONG, RATIONAL, SBYTE, UNDEFINED, SSHORT, SLONG,
# SRATIONAL, FLOAT, DOUBLE, IFD, -, -, -, LONG8, SLONG8, IFD8).
TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}
XMP_SIGNATURES = (b"http://ns.adobe.com/xap/1.0/\0", b"http://ns.adobe.com/xmp/extension/\0")
BLANK_XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/><?xpacket end="w"?>'
)


def strip_location(data, content_type):
    """`data` (bytes of a checked upload) without location metadata when it is a JPEG or HEIC photo, else as is."""
    if content_type == "image/jpeg":
        cleaned = _strip_jpeg(data)
    elif content_type == "image/heic":
        register_heif()
        cleaned = _strip_heif(data)
    else:
        return data
    if _has_gps(cleaned):
        return _encoded_without_gps(cleaned, content_type)
    return cleaned


def _has_gps(data):
    """Whether Pillow still finds a GPS IFD in the photo's EXIF."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
            return GPS_IFD in exif or bool(exif.get_ifd(GPS_IFD))
    except (OSError, SyntaxError, ValueError, struct.error):
        return False


def _encoded_without_gps(data, content_type):
    """The photo encoded again with its EXIF minus the GPS IFD (the fallback for layouts not edited in place)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        exif.pop(GPS_IFD, None)
        out = io.BytesIO()
        if content_type == "image/heic":
            image.save(out, "HEIF", exif=exif.tobytes(), quality=90)
        else:
            image.save(out, "JPEG", exif=exif.tobytes(), quality=92)
    return out.getvalue()


def _strip_jpeg(data):
    """A JPEG's segments before the image data, without XMP and Photoshop/IPTC blocks and with EXIF minus GPS."""
    if not data.startswith(b"\xff\xd8"):
        return data
    out = bytearray(b"\xff\xd8")
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA or 0xD0 <= marker <= 0xD9:  # start of scan (or a marker without length): copy the rest
            break
        length = struct.unpack_from(">H", data, pos + 2)[0]
        segment = bytearray(data[pos : pos + 2 + length])
        body = segment[4:]
        if marker == 0xE1 and body.startswith(b"Exif\0\0"):
            _drop_gps_ifd(segment, 10, len(segment))
        elif (marker == 0xE1 and body.startswith(XMP_SIGNATURES)) or (
            marker == 0xED and body.startswith(b"Photoshop 3.0\0")
        ):
            pos += 2 + length
            continue
        out += segment
        pos += 2 + length
    out += data[pos:]
    return bytes(out)


def _strip_heif(data):
    """A HEIC/HEIF file with the GPS IFD of its Exif item removed and its XMP items blanked, in place."""
    buf = bytearray(data)
    try:
        for kind, content_type, start, end in _heif_item_ranges(data):
            if kind == b"Exif" and end - start > 4:
                tiff = start + 4 + struct.unpack_from(">I", buf, start)[0]
                _drop_gps_ifd(buf, tiff, end)
            elif kind == b"mime" and content_type.startswith(b"application/rdf+xml"):
                buf[start:end] = (BLANK_XMP if len(BLANK_XMP) <= end - start else b"").ljust(end - start, b" ")
    except (struct.error, IndexError, ValueError):
        return data
    return bytes(buf)


def _boxes(data, start, end):
    """(type, payload start, box end) of the ISO boxes between `start` and `end`."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def _uint(data, pos, size):
    """A big-endian unsigned number of `size` bytes (0, 4 or 8) at `pos`; 0 for size 0."""
    return int.from_bytes(data[pos : pos + size], "big") if size else 0


def _heif_item_ranges(data):
    """(item type, mime content type, start, end) of every single-extent item in a HEIF file's `meta` box."""
    meta = next(((start, end) for kind, start, end in _boxes(data, 0, len(data)) if kind == b"meta"), None)
    if meta is None:
        return []
    children = {kind: (start, end) for kind, start, end in _boxes(data, meta[0] + 4, meta[1])}  # meta is a full box
    if b"iinf" not in children or b"iloc" not in children:
        return []
    types = _item_types(data, *children[b"iinf"])
    idat = children.get(b"idat", (0, 0))[0]
    ranges = []
    for item_id, method, extents in _item_locations(data, *children[b"iloc"]):
        if item_id in types and len(extents) == 1 and method in (0, 1):
            offset, length = extents[0]
            start = offset + (idat if method == 1 else 0)
            end = start + length if length else len(data)
            if 0 <= start < end <= len(data):
                ranges.append((*types[item_id], start, end))
    return ranges


def _item_types(data, start, end):
    """{item id: (item type, mime content type)} from an `iinf` box (item info entries of version 2 and 3)."""
    version = data[start]
    pos = start + 4 + (2 if version == 0 else 4)
    types = {}
    for kind, infe, infe_end in _boxes(data, pos, end):
        if kind != b"infe" or data[infe] < 2:
            continue
        pos = infe + 4
        if data[infe] == 2:
            item_id, pos = struct.unpack_from(">H", data, pos)[0], pos + 2
        else:
            item_id, pos = struct.unpack_from(">I", data, pos)[0], pos + 4
        item_type = bytes(data[pos + 2 : pos + 6])
        name_end = data.index(b"\0", pos + 6, infe_end)
        content_type = b""
        if item_type == b"mime":
            type_end = data.find(b"\0", name_end + 1, infe_end)
            content_type = bytes(data[name_end + 1 : type_end if type_end >= 0 else infe_end])
        types[item_id] = (item_type, content_type)
    return types


def _item_locations(data, start, end):
    """(item id, construction method, [(offset, length)]) from an `iloc` box (versions 0, 1 and 2)."""
    version = data[start]
    offset_size, length_size = data[start + 4] >> 4, data[start + 4] & 15
    base_offset_size, index_size = data[start + 5] >> 4, (data[start + 5] & 15 if version in (1, 2) else 0)
    pos = start + 6
    if version < 2:
        count, pos = struct.unpack_from(">H", data, pos)[0], pos + 2
    else:
        count, pos = struct.unpack_from(">I", data, pos)[0], pos + 4
    items = []
    for _ in range(count):
        if version < 2:
            item_id, pos = struct.unpack_from(">H", data, pos)[0], pos + 2
        else:
            item_id, pos = struct.unpack_from(">I", data, pos)[0], pos + 4
        method = 0
        if version in (1, 2):
            method, pos = struct.unpack_from(">H", data, pos)[0] & 15, pos + 2
        pos += 2  # data reference index
        base, pos = _uint(data, pos, base_offset_size), pos + base_offset_size
        extent_count, pos = struct.unpack_from(">H", data, pos)[0], pos + 2
        extents = []
        for _ in range(extent_count):
            pos += index_size
            offset, pos = _uint(data, pos, offset_size), pos + offset_size
            length, pos = _uint(data, pos, length_size), pos + length_size
            extents.append((base + offset, length))
        if pos > end:
            break
        items.append((item_id, method, extents))
    return items


def _drop_gps_ifd(buf, tiff, end):
    """Remove the GPS IFD from the TIFF structure at buf[tiff:end], in place; whether there was one.

    Its entries and out-of-line values are zeroed and the 0x8825 entry leaves IFD0: the entries after it move
    up by one, the next-IFD pointer with them, so the length of the block stays the same."""
    order = bytes(buf[tiff : tiff + 2])
    if order not in (b"II", b"MM"):
        return False
    endian = "<" if order == b"II" else ">"

    def u16(offset):
        return struct.unpack_from(endian + "H", buf, tiff + offset)[0]

    def u32(offset):
        return struct.unpack_from(endian + "I", buf, tiff + offset)[0]

    size = end - tiff
    ifd0 = u32(4)
    count = u16(ifd0)
    table_end = ifd0 + 2 + 12 * count + 4
    if table_end > size:
        return False
    for index in range(count):
        entry = ifd0 + 2 + 12 * index
        if u16(entry) != GPS_IFD:
            continue
        _zero_ifd(buf, tiff, size, u32(entry + 8), u16, u32)
        buf[tiff + entry : tiff + table_end - 12] = buf[tiff + entry + 12 : tiff + table_end]
        buf[tiff + table_end - 12 : tiff + table_end] = bytes(12)
        struct.pack_into(endian + "H", buf, tiff + ifd0, count - 1)
        return True
    return False


def _zero_ifd(buf, tiff, size, ifd, u16, u32):
    """Zero an IFD's entries, its next pointer and the values its entries keep outside the table."""
    if not 0 < ifd <= size - 2:
        return
    count = u16(ifd)
    if ifd + 2 + 12 * count + 4 > size:
        return
    for index in range(count):
        entry = ifd + 2 + 12 * index
        length = TIFF_TYPE_SIZES.get(u16(entry + 2), 1) * u32(entry + 4)
        if length > 4:
            value = u32(entry + 8)
            if 0 < value and value + length <= size:
                buf[tiff + value : tiff + value + length] = bytes(length)
    buf[tiff + ifd : tiff + ifd + 2 + 12 * count + 4] = bytes(2 + 12 * count + 4)
