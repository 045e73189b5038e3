"""Every cache of the process has a bound, and holds no more than it when fed more distinct keys than it allows.

An unbounded cache keyed by what people type or ask for is a memory leak: the worker would grow until restarted.
"""
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app import business_hours, formatting, markup, static_files, text_folding
from app.extensions import db

# Every functools cache of the app, with the bound it must keep: (name, cache, largest maxsize allowed).
LRU_CACHES = [
    ("text_folding word spellings", text_folding._cached_fold_word, 4096),
    ("markup rendered messages", markup._cached_message_html, 512),
    ("markup rendered pages", markup._cached_page_html, 512),
    ("formatting timestamps", formatting._formatted, 4096),
    ("formatting date-time patterns", formatting.datetime_pattern, 8),
    ("business_hours public holidays", business_hours.public_holidays, 256),
]


@pytest.mark.parametrize(("name", "cache", "bound"), LRU_CACHES, ids=[name for name, _cache, _bound in LRU_CACHES])
def test_every_lru_cache_has_a_bound(name, cache, bound):
    maxsize = cache.cache_info().maxsize
    assert maxsize is not None, f"{name} is unbounded"
    assert maxsize <= bound


def _fill_and_check(cache, feed):
    """Clear `cache`, call `feed(i)` for more distinct keys than its bound, and assert its size stays within it."""
    cache.cache_clear()
    maxsize = cache.cache_info().maxsize
    for index in range(maxsize + 50):
        feed(index)
    info = cache.cache_info()
    assert info.misses >= maxsize + 50  # every key was new
    assert info.currsize <= maxsize
    cache.cache_clear()


def test_folded_words_stay_within_their_bound():
    _fill_and_check(text_folding._cached_fold_word, lambda index: text_folding.words(f"Kühlraum{index}"))


def test_long_words_are_folded_without_being_kept():
    text_folding._cached_fold_word.cache_clear()
    long_word = "Ü" + "x" * (text_folding.CACHED_WORD_LENGTH + 10)

    assert text_folding.words(long_word) == [("uexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                                             "uxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")]
    assert text_folding._cached_fold_word.cache_info().currsize == 0


def test_rendered_texts_stay_within_their_bound():
    _fill_and_check(markup._cached_message_html, lambda index: markup.render_message(f"Nachricht **{index}**"))
    _fill_and_check(markup._cached_page_html, lambda index: markup.render_page(f"## Schritt {index}"))


def test_long_texts_are_rendered_without_being_kept():
    markup._cached_message_html.cache_clear()
    text = "Öl " * (markup.CACHED_TEXT_LENGTH // 3 + 1)

    assert "Öl Öl" in markup.render_message(text)
    assert markup._cached_message_html.cache_info().currsize == 0


def test_public_holidays_stay_within_their_bound():
    _fill_and_check(business_hours.public_holidays, lambda index: business_hours.public_holidays("", 1900 + index))


def test_formatted_timestamps_stay_within_their_bound(app):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with app.test_request_context("/"):
        _fill_and_check(
            formatting._formatted,
            lambda index: formatting._cached("datetime", start + timedelta(minutes=index), "short"),
        )


def test_date_time_patterns_stay_within_their_bound():
    locales = ["de", "en", "fr", "it", "es", "nl", "pl", "cs", "da", "sv", "fi", "pt"]
    formatting.datetime_pattern.cache_clear()
    for locale in locales:
        formatting.datetime_pattern(locale)
    assert formatting.datetime_pattern.cache_info().currsize <= formatting.datetime_pattern.cache_info().maxsize


def test_compiled_statements_stay_within_the_configured_bound(app):
    cache = db.engine._compiled_cache
    assert cache.capacity == app.config["SQLALCHEMY_QUERY_CACHE_SIZE"] == 200
    with db.engine.connect() as connection:
        for index in range(cache.capacity * 2):
            connection.execute(sa.select(sa.literal_column(str(index)).label(f"column_{index}")))
    # SQLAlchemy's LRU prunes back to its capacity once it holds half as many again.
    assert len(cache) <= cache.capacity * (1 + cache.threshold)


def test_sqlite_connections_keep_a_bounded_page_cache(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite setting")
    from app import SQLITE_CACHE_KIB

    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB
    assert SQLITE_CACHE_KIB <= 1024


def test_sqlite_connections_keep_a_bounded_statement_cache(app):
    """Once a connection holds SQLITE_CACHED_STATEMENTS prepared statements, new ones replace old ones: SQLite's
    memory stops growing (with Python's default of 128 it would grow through the second batch as through the
    first)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite setting")
    import ctypes
    import ctypes.util

    from app import SQLITE_CACHED_STATEMENTS

    sqlite_library = ctypes.CDLL(ctypes.util.find_library("sqlite3"))  # the library Python's sqlite3 runs on
    sqlite_library.sqlite3_memory_used.restype = ctypes.c_int64
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()

        def growth_of(batch):
            """Bytes SQLite's memory grew while `cursor` ran SQLITE_CACHED_STATEMENTS new distinct statements."""
            before = sqlite_library.sqlite3_memory_used()
            for index in range(SQLITE_CACHED_STATEMENTS):
                cursor.execute(f"SELECT {batch * 1000 + index} AS n, lower('Öl') AS word, 1 + 2 AS sum").fetchall()
            return sqlite_library.sqlite3_memory_used() - before

        growth_of(0)  # the cache fills with the first batch (and whatever the connection had prepared before)
        second = growth_of(1)
        third = growth_of(2)
        assert second < 8 * 1024 and third < 8 * 1024, (second, third)
    finally:
        raw.close()
    assert SQLITE_CACHED_STATEMENTS <= 64


def test_jinja_keeps_a_bounded_template_cache(app):
    cache = app.jinja_env.cache
    assert cache is not None and not isinstance(cache, dict)  # a dict would be Jinja's unbounded cache
    assert cache.capacity <= 400


def test_static_file_hashes_are_kept_only_for_files_that_exist(app):
    with app.test_request_context("/"):
        before = len(static_files._known)
        for index in range(200):
            assert static_files.content_hash(f"js/no-such-file-{index}.js") is None
        assert len(static_files._known) == before
        static_files.content_hash("css/app.css")
        static_files.content_hash("css/app.css")
        assert len(static_files._known) <= before + 1
