"""Spreadsheets in and out: CSV and XLSX files read into rows of text, and rows written as streamed downloads.

Writing: `csv_response` streams CSV from a generator (UTF-8 with BOM so Excel opens umlauts right; `;` for
German readers, as German Excel expects, `,` otherwise); `xlsx_response` writes through openpyxl's write-only
mode into an anonymous temporary file and streams that. Both take an iterable of rows and never hold more than
one row in memory. Text that a spreadsheet would run as a formula (starting with = + - @) is defused (OWASP's
"CSV injection"): CSV cells get a leading `'`, XLSX cells are stored as plain strings, never as formulas.

Reading: `read_table` turns an uploaded CSV (UTF-8 with or without BOM, Windows-1252 as German Excel's plain
"CSV" writes it; `;`, `,` or tab separated) or XLSX file into (row number, [cell text, …]) pairs.
"""
import csv
import io
import tempfile
import zipfile
from datetime import date, datetime, time

from flask import Response, send_file, stream_with_context
from flask_babel import get_locale
from flask_babel import gettext as _

from app.services.errors import ValidationError

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAGIC = b"PK\x03\x04"
CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DELIMITERS = (";", ",", "\t")
STREAM_CHUNK_BYTES = 64 * 1024
MAX_COLUMNS = 60  # columns read from a sheet; more are no table of ours
MAX_UNPACKED_RATIO = 30  # an XLSX may unpack to this many times its size (real sheets: 3–10 times); zip bombs more


def defused(value):
    """Text a spreadsheet shows as text: a leading `'` before = + - @ (and tab or CR) so it is never a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_delimiter():
    """`;` for German readers (German Excel splits on it), `,` for everyone else."""
    return ";" if str(get_locale() or "").startswith("de") else ","


def _csv_text(value):
    """One CSV cell: dates and times as ISO-like text a spreadsheet parses, None as empty, formulas defused."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return defused(str(value)) if isinstance(value, str) else str(value)


def csv_chunks(header, rows, delimiter=","):
    """Yield the CSV file as str chunks: BOM and header first, then about 64 KB of rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([_csv_text(cell) for cell in header])
    for row in rows:
        writer.writerow([_csv_text(cell) for cell in row])
        if buffer.tell() >= STREAM_CHUNK_BYTES:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _attachment(name):
    """Content-Disposition for a download called `name` (ASCII names only: ours are)."""
    return f'attachment; filename="{name}"'


def csv_response(header, rows, file_name):
    """A streamed CSV download (a generator response in the request's context) of `header` and `rows`."""
    chunks = (chunk.encode("utf-8") for chunk in csv_chunks(header, rows, csv_delimiter()))
    response = Response(stream_with_context(chunks), mimetype=CSV_MIMETYPE)
    response.headers["Content-Disposition"] = _attachment(file_name)
    response.headers["Cache-Control"] = "no-store"
    return response


def _xlsx_cell(sheet, value):
    """A write-only cell: text always as a string (never a formula), datetimes as dates without a zone."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value.replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"  # openpyxl would store "=…" as a formula
        return cell
    return value


def _xlsx_value(sheet, value):
    """What `sheet.append` gets for one value: a cell of our own only where openpyxl would guess wrong."""
    if isinstance(value, datetime) or (isinstance(value, str) and value.startswith(FORMULA_STARTS)):
        return _xlsx_cell(sheet, value)
    return value


def write_xlsx(target, header, rows, sheet_title):
    """Write `header` and `rows` into the file object `target` as XLSX with openpyxl's write-only mode (flat memory)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    sheet.append([_xlsx_cell(sheet, str(cell)) for cell in header])
    for row in rows:
        sheet.append([_xlsx_value(sheet, cell) for cell in row])
    workbook.save(target)


def xlsx_response(header, rows, file_name, sheet_title):
    """A streamed XLSX download: written to an anonymous temporary file first, then sent in chunks from it."""
    target = tempfile.TemporaryFile(prefix="ticketwerk-export-")  # noqa: SIM115 - closed by the response
    try:
        write_xlsx(target, header, rows, sheet_title)
        target.seek(0)
    except BaseException:
        target.close()
        raise
    response = send_file(target, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=file_name, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- reading


def _decode(data):
    """The text of a CSV file: UTF-8 (a BOM is dropped), else Windows-1252 as German Excel's plain CSV writes it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _csv_rows(data, known_header):
    """(row number, cells) of a CSV file, split on the separator that makes the most known headers of line one."""
    text = _decode(data)
    first_line = text.split("\n", 1)[0]

    def known(delimiter):
        """How many cells of the first line split on `delimiter` are known headers."""
        cells = next(csv.reader([first_line], delimiter=delimiter), [])
        return sum(1 for cell in cells if known_header(cell))

    delimiter = max(DELIMITERS, key=known)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error:
        raise ValidationError(_("The file could not be read as CSV."), field="file") from None


def _xlsx_text(value):
    """A cell's value as the text a person typed: whole numbers without “.0”, dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time.min else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _unpacked_size(data):
    """The bytes an XLSX (a zip) says it unpacks to; Python's zipfile never unpacks a member beyond its stated size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationError(_("The file could not be read as an Excel workbook (XLSX)."), field="file") from None


def _xlsx_rows(data):
    """(row number, cells) of the first sheet of an XLSX file, read with openpyxl in read-only mode.

    A workbook that would unpack to more than MAX_UNPACKED_RATIO times its size is refused unread (a zip bomb).
    """
    from openpyxl import load_workbook

    if _unpacked_size(data) > MAX_UNPACKED_RATIO * max(len(data), 64 * 1024):
        raise ValidationError(_("The workbook unpacks to too much data. Please save it again or send a CSV."), field="file")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl and zipfile raise many kinds for a broken workbook
        raise ValidationError(_("The file could not be read as an Excel workbook (XLSX)."), field="file") from error
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            return
        for number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            yield number, [_xlsx_text(value) for value in values]
    except Exception as error:  # a broken sheet inside a valid zip
        raise ValidationError(_("The file could not be read as an Excel workbook (XLSX)."), field="file") from error
    finally:
        workbook.close()


def read_table(data, known_header):
    """(row number, [cell text, …]) pairs of an uploaded CSV or XLSX file (`data`: bytes); the header is row 1.

    `known_header(text)` says whether a cell of the first row is a column name we know; it picks the CSV separator.
    Raises ValidationError on `file` when the file cannot be read.
    """
    if data.startswith(XLSX_MAGIC):
        return _xlsx_rows(data)
    if b"\x00" in data[:4096]:
        raise ValidationError(_("Please upload a CSV or XLSX file."), field="file")
    return _csv_rows(data, known_header)
