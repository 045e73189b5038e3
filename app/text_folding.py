"""Folding text for search, so that German spellings find each other on SQLite and PostgreSQL alike.

German readers type *Kühlraum*, *KÜHLRAUM*, *Kuehlraum* or *Kuhlraum* for the same word, and *Straße* or *STRASSE*.
Neither database folds that the same way (SQLite's LIKE lowers ASCII only; PostgreSQL's lower() depends on the
database's locale), so Ticketwerk folds in Python, once for what is stored and once for what is searched:

- ``fold(text)`` gives two spellings of the text: NFKC (full-width letters, ligatures), then ``str.casefold``
  (every script's capitals; ``ß`` and ``ẞ`` become ``ss``), then
  - **A**: ``ä ö ü`` become ``ae oe ue``, all other diacritics are dropped (``é`` → ``e``);
  - **B**: all diacritics are dropped (``ä`` → ``a``).
- What is stored keeps both (``search_key``: ``A`` or ``A\\x1fB``; ticket documents: the words of A plus the words
  of B that differ). A query matches when the stored text contains the query's A **or** its B. So *Kühlraum*
  (stored ``kuehlraum\\x1fkuhlraum``) is found by *kühlraum*, *KÜHLRAUM*, *kuehlraum* and *kuhlraum*; *Kuehlraum*
  is found by *Kühlraum*; *Michael* is not found by *Michal*. (*Muller* does not find *Mueller*: neither is typed
  with an umlaut.)
- ``SEPARATOR`` (the ASCII unit separator) joins the parts of a key; no folded query contains it (control
  characters fold to spaces), so a match never spans two fields.

List searches compare keys with ``LIKE`` through ``contains(..., autoescape=True)``: ``%``, ``_`` and quotes in a
query are plain characters. See ``list_condition``.
"""
import functools
import itertools
import re
import unicodedata

import sqlalchemy as sa

SEPARATOR = "\x1f"
UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
SPACES = re.compile(r"\s+")
WORD = re.compile(r"[^\W_]+")  # runs of letters and digits; the underscore is no word character here
CACHED_LENGTH = 200  # document_text caches the words of texts up to this length (titles, short answers)
# Folded words kept per process: 4,096 five- to fifteen-letter words hold about 1.3 MiB (tracemalloc); the former
# 65,536 held 22 MiB once full, and every distinct word anyone typed could fill it.
WORD_CACHE_SIZE = 4096
CACHED_WORD_LENGTH = 40  # longer runs of letters (pasted codes, hashes) are folded without being kept


@functools.cache
def _marks():
    """A compiled pattern of every combining mark (Unicode category Mn); built once, on first use."""
    # Combining marks live below U+20000 and in the variation selectors supplement (U+E0100…U+E01EF).
    codes = [code for code in itertools.chain(range(0x20000), range(0xE0100, 0xE01F0))
             if unicodedata.category(chr(code)) == "Mn"]
    ranges = []  # [first, last] of each run of consecutive code points
    for code in codes:
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return re.compile("[" + "".join(f"{re.escape(chr(first))}-{re.escape(chr(last))}" for first, last in ranges) + "]+")


def _strip_marks(text):
    """`text` without its diacritics: NFD, drop the combining marks, NFC again (Hangul syllables recompose)."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", _marks().sub("", unicodedata.normalize("NFD", text)))


def fold(text):
    """The two folded spellings (A, B) of `text` (str or None) as a tuple of str; equal when nothing differs.

    Control characters become spaces and runs of white space one space; leading and trailing space is dropped.
    A: umlauts as ae/oe/ue, other diacritics dropped. B: all diacritics dropped. Both case-folded (ß → ss).
    """
    text = SPACES.sub(" ", CONTROLS.sub(" ", text or "")).strip()
    if text.isascii():
        lowered = text.lower()  # casefold of ASCII
        return lowered, lowered
    text = unicodedata.normalize("NFKC", text).casefold()
    return _strip_marks(text.translate(UMLAUTS)), _strip_marks(text)


def search_key(*values):
    """The stored search key of a row whose searchable fields are `values` (str or None), as one str.

    The distinct folded spellings of every non-empty field, joined by SEPARATOR (``"kk-9 kuehlraum\\x1fkk-9
    kuhlraum\\x1fhalle 3"``). "" when every field is empty.
    """
    parts = []
    for value in values:
        for spelling in fold(value):
            if spelling and spelling not in parts:
                parts.append(spelling)
    return SEPARATOR.join(parts)


def list_condition(column, query):
    """A WHERE clause for rows whose search-key `column` contains the folded `query` (str), or None when the
    query folds to nothing (only white space or control characters: no filter).

    ``LIKE`` with escaping (SQLAlchemy's ``autoescape``): ``%`` and ``_`` match themselves only.
    """
    spelling_a, spelling_b = fold(query)
    if not spelling_a:
        return None
    clauses = [column.contains(spelling_a, autoescape=True)]
    if spelling_b != spelling_a:
        clauses.append(column.contains(spelling_b, autoescape=True))
    return sa.or_(*clauses)


def _fold_word(word):
    """The folded spellings of one NFKC, case-folded word: (A,) or (A, B)."""
    if word.isascii():
        return (word,)
    spelling_a, spelling_b = _strip_marks(word.translate(UMLAUTS)), _strip_marks(word)
    return (spelling_a,) if spelling_a == spelling_b else (spelling_a, spelling_b)


_cached_fold_word = functools.lru_cache(maxsize=WORD_CACHE_SIZE)(_fold_word)


def _word_spellings(word):
    """`_fold_word(word)`, from the cache for words up to CACHED_WORD_LENGTH characters (words repeat)."""
    return _cached_fold_word(word) if len(word) <= CACHED_WORD_LENGTH else _fold_word(word)


def words(text):
    """The search words of `text` (str or None): each run of letters and digits as a tuple of its folded
    spellings, (A,) or (A, B), in order. ``"Kühlraum_2 KK-9"`` → ``[("kuehlraum", "kuhlraum"), ("2",), ("kk",),
    ("9",)]``. NFKC composes a letter and its combining diaeresis into one letter; a combining mark that has no
    composed form ends a word."""
    text = text or ""
    if text.isascii():
        return [(word,) for word in WORD.findall(text.lower())]
    return [_word_spellings(word) for word in WORD.findall(unicodedata.normalize("NFKC", text).casefold())]


def _document_parts(text):
    """(the A spellings of the words of `text`, the differing B spellings), each space-joined."""
    spellings = words(text)
    return " ".join(spelling[0] for spelling in spellings), " ".join(spelling[1] for spelling in spellings if len(spelling) > 1)


def document_text(*texts, cache=None):
    """`texts` (str each) as one stored search document: the A spelling of every word, then the differing B
    spellings, space-separated (``"Kühlraum vereist"`` → ``"kuehlraum vereist kuhlraum"``).

    `cache` (a dict, optional) keeps the folded words of each text for the next call: a rebuild meets the same
    titles, flow names and short answers again and again.
    """
    first, others = [], []
    for text in texts:
        parts = cache.get(text) if cache is not None else None
        if parts is None:
            parts = _document_parts(text)
            if cache is not None and len(text) <= CACHED_LENGTH:
                cache[text] = parts
        if parts[0]:
            first.append(parts[0])
        if parts[1]:
            others.append(parts[1])
    return " ".join(first + others)
