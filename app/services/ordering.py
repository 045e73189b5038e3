"""Ordered rows (flows, steps, groups, elements, buttons): move one up or down, take one out, number them 0..n-1."""
from app.extensions import db


def move(rows, row, direction):
    """Swap `row` with its neighbour in `rows` (direction -1 up, +1 down), renumber positions; returns the new order."""
    rows = list(rows)
    index = rows.index(row)
    other = index + (1 if int(direction) > 0 else -1)
    if 0 <= other < len(rows):
        rows[index], rows[other] = rows[other], rows[index]
    renumber(rows)
    return rows


def renumber(rows):
    """Positions 0..n-1 in the current order."""
    for position, item in enumerate(rows):
        item.position = position


def remove(rows, row):
    """Take `row` out of the ordered relationship `rows` (its delete-orphan cascade deletes it) and renumber the rest."""
    rows.remove(row)
    db.session.flush()
    renumber(rows)
