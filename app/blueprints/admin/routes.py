"""The administration blueprints; importing the view modules registers their routes."""
from app.blueprints.admin import (  # noqa: F401
    account_views,
    audit_views,
    bp,
    devices_views,
    service_level_views,
    staff_views,
    templates_views,
    transfer_views,
    webhooks_views,
)
from app.blueprints.admin.staff_views import account_bp

__all__ = ["account_bp", "bp"]
