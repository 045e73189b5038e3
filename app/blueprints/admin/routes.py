"""The administration blueprints; importing the view modules registers their routes."""
from app.blueprints.admin import bp, devices_views, staff_views, templates_views  # noqa: F401
from app.blueprints.admin.staff_views import account_bp

__all__ = ["account_bp", "bp"]
