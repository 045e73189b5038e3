"""File names as people see them: without the control characters that can disguise a name.

A name such as "rechnung\u202egnp.exe" shows as "rechnungexe.png" in a browser: the right-to-left override turns
the rest of the line around. Direction controls (Unicode's bidi embeddings, overrides, isolates and marks, the
Arabic letter mark) and all other control characters (category Cc: NUL, line breaks, escapes) are removed.
"""
import unicodedata

DIRECTION_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings, pop, overrides
    "\u2066\u2067\u2068\u2069"  # isolates
    "\u200e\u200f\u061c"  # left-to-right, right-to-left and Arabic letter marks
)


def clean(name):
    """`name` without direction controls and control characters (Cc), trimmed; "" when nothing is left."""
    kept = (
        char for char in (name or "") if char not in DIRECTION_CONTROLS and unicodedata.category(char) != "Cc"
    )
    return "".join(kept).strip()
