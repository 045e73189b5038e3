"""Table statistics for SQLite's query planner, refreshed when an app process starts.

Without `sqlite_stat1` SQLite guesses how selective each index is, and at 100,000 tickets it sorts half the tickets
for the overview instead of walking the activity index (about 100 ms instead of under 1 ms). A full ANALYZE takes
about 0.3 s at 100,000 tickets, so it runs only when the statistics are missing or the tickets grew by a quarter
since they were taken, or an index was added (a migration). PostgreSQL keeps its statistics itself (autovacuum).
"""
import logging

import sqlalchemy as sa

log = logging.getLogger(__name__)
GROWTH_BEFORE_REFRESH = 1.25
MEASURED_TABLE = "tickets"


def statistics_stale(connection):
    """Whether the planner statistics are missing, miss an index or are older than a quarter of the tickets."""
    tables = set(connection.scalars(sa.text("SELECT name FROM sqlite_master WHERE type = 'table'")))
    if MEASURED_TABLE not in tables:
        return False  # Not migrated yet: nothing to measure.
    newest = connection.scalar(sa.text(f"SELECT max(rowid) FROM {MEASURED_TABLE}")) or 0
    if "sqlite_stat1" not in tables:
        return newest > 0
    stat = connection.scalar(sa.text("SELECT stat FROM sqlite_stat1 WHERE tbl = :table LIMIT 1"), {"table": MEASURED_TABLE})
    if not stat:
        return newest > 0
    unmeasured_indexes = connection.scalar(
        sa.text(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = :table "
            "AND name NOT IN (SELECT idx FROM sqlite_stat1 WHERE tbl = :table AND idx IS NOT NULL)"
        ),
        {"table": MEASURED_TABLE},
    )
    measured_rows = int(stat.split()[0])
    return bool(unmeasured_indexes) or newest > measured_rows * GROWTH_BEFORE_REFRESH


def refresh(app):
    """ANALYZE a SQLite file database when its statistics are stale; other databases are left alone."""
    from app.extensions import db

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if app.testing or not uri.startswith("sqlite") or ":memory:" in uri or uri.rstrip("/") == "sqlite:":
        return False
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                if not statistics_stale(connection):
                    return False
                log.info("Refreshing SQLite planner statistics")
                connection.execute(sa.text("ANALYZE"))
                connection.commit()
        except sa.exc.OperationalError as error:  # Read-only or locked for too long: serve with the old statistics.
            log.warning("SQLite planner statistics not refreshed: %s", error)
            return False
    return True
