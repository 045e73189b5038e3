"""The folded search key that list searches (devices, customers, employees, codes, templates) compare with."""
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app import text_folding


class SearchKeyed:
    """Mixin: a `search_key` column (app.text_folding.search_key of the fields named in SEARCH_FIELDS), written
    by the mapper events below on every ORM insert and update, so no writer can forget it. Core UPDATEs of those
    fields must call `refresh_search_key` themselves (none do)."""

    SEARCH_FIELDS: ClassVar[tuple[str, ...]] = ()

    search_key: Mapped[str] = mapped_column(sa.Text, default="", server_default="")

    def refresh_search_key(self):
        """Recompute `search_key` from the current field values."""
        self.search_key = text_folding.search_key(*(getattr(self, name) for name in self.SEARCH_FIELDS))

    @classmethod
    def search_condition(cls, query):
        """WHERE clause for rows whose fields contain `query` (folded, see app.text_folding); None for no query."""
        return text_folding.list_condition(cls.search_key, query)


@sa.event.listens_for(SearchKeyed, "before_insert", propagate=True)
@sa.event.listens_for(SearchKeyed, "before_update", propagate=True)
def _refresh(_mapper, _connection, target):
    """Keep the key in step with the row, inside the flush that writes the row."""
    target.refresh_search_key()
