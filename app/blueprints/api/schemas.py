"""Marshmallow schemas shared by the API's resources: they validate input and describe the OpenAPI document."""
from marshmallow import Schema, fields, validate

from app.enums import Priority, Visibility
from app.workflow import MANUAL_EVENTS, TicketStatus


def enum_field(enum_cls, **kwargs):
    """An enum as its lowercase value ("in_progress"), the same words as the pages' URLs and data attributes."""
    return fields.Enum(enum_cls, by_value=True, **kwargs)


class IdNameRef(Schema):
    """A row named in another resource: a template or customer named in a device."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)


class EmployeeRef(Schema):
    """An employee named in another resource."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)


class AttachmentSchema(Schema):
    """A stored file; `url` downloads it with the same token."""

    id = fields.Integer(required=True)
    name = fields.String(required=True, attribute="original_name")
    content_type = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "Bytes."})
    created_at = fields.AwareDateTime(required=True)
    url = fields.String(required=True)


class CursorPageSchema(Schema):
    """What every cursor-paged list carries besides its items."""

    next_cursor = fields.String(
        required=True, allow_none=True, metadata={"description": "Pass as `cursor` for the next page; null on the last."}
    )


def cursor_page(item_schema, description):
    """The schema of one page of a cursor-paged list of `item_schema` items: `items` and `next_cursor`, named after
    the item ("CustomerSchema" pages are "CustomerPageSchema", "CustomerPage" in the document), `description` its
    text in the document."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    items = fields.List(fields.Nested(item_schema), required=True)
    return type(name, (CursorPageSchema,), {"__doc__": description, "__module__": item_schema.__module__,
                                            "items": items})


class ListArgs(Schema):
    """Paging of a list."""

    cursor = fields.String(metadata={"description": "The `next_cursor` of the previous page."})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200),
                           metadata={"description": "Items per page."})


__all__ = ["MANUAL_EVENTS", "AttachmentSchema", "CursorPageSchema", "EmployeeRef", "IdNameRef", "ListArgs", "Priority",
           "TicketStatus", "Visibility", "cursor_page", "enum_field"]
