"""Ticket export memory: 1,000 and 10,000 tickets go out in about the same memory (keyset batches, streamed CSV,
openpyxl's write-only XLSX). SQLite only: the machinery measured is the export's, not the database's."""
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.enums import Priority, Visibility
from app.extensions import db
from app.models import Offer, Ticket
from app.workflow import TicketStatus
from tests.test_ticket_export import make_world


@pytest.fixture
def world(app):
    """Anna's public ticket, an internal one and a draft (tests/test_ticket_export.make_world)."""
    return make_world()


def add_tickets(world, count):
    """`count` more OPEN tickets of the world's device, inserted in bulk, each with Anna responsible."""
    template_id, device_id = world["device"].template_id, world["device"].id
    start = (db.session.scalar(sa.select(sa.func.max(Ticket.id))) or 0) + 1
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for first in range(start, start + count, 5000):
        ids = range(first, min(first + 5000, start + count))
        db.session.execute(sa.insert(Ticket), [
            {"id": number, "device_id": device_id, "template_id": template_id, "status": TicketStatus.OPEN,
             "visibility": Visibility.PUBLIC, "priority": Priority.HIGH, "title": f"Presse {number} verliert Öl",
             "created_at": now + timedelta(minutes=number), "last_activity_at": now + timedelta(minutes=number),
             "version": 1}
            for number in ids
        ])
        db.session.execute(sa.insert(Offer), [
            {"ticket_id": number, "employee_id": world["anna"].id, "state": "ACCEPTED"} for number in ids
        ])
    db.session.commit()


def peak_while_exporting(client, kind, query="?priority=high"):
    """(peak traced bytes, bytes sent, data rows) while one export is produced and read."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    response = client.get(f"/tickets/export.{kind}{query}", buffered=False)
    size = 0
    for chunk in response.response:
        size += len(chunk)
    response.close()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, size


def test_memory_stays_flat_from_1000_to_10000_tickets(app, login, world):
    app.config["EXPORT_BATCH_SIZE"] = 250  # several batches already for the small export
    client = login(world["anna"])
    add_tickets(world, 1000)
    small_peak, small_size = peak_while_exporting(client, "csv")
    add_tickets(world, 9000)
    big_peak, big_size = peak_while_exporting(client, "csv")
    assert big_size > 9 * small_size  # ten times the tickets went out …
    assert big_peak < 2 * small_peak  # … in about the same memory (proportional would be ten times)
    # XLSX: openpyxl's write-only mode writes each row out as it comes (about 1,400 against 5,700 rows here: openpyxl
    # is slow under tracemalloc; benchmarks/export.py measures 100,000).
    xlsx_small, _size = peak_while_exporting(client, "xlsx", "?priority=high&created_to=2026-01-01")
    xlsx_big, _size = peak_while_exporting(client, "xlsx", "?priority=high&created_to=2026-01-04")
    assert xlsx_big < 1.5 * xlsx_small
