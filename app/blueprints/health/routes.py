"""Liveness probe for load balancers and process supervisors."""
from flask import Blueprint

from app.extensions import limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """Answer "ok" while the process serves requests (no database access, so it stays cheap)."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
