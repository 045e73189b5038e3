"""Organisation-wide settings (administrators only)."""
from flask_babel import gettext as _

from app import policy, time_zones
from app.enums import Role
from app.extensions import db
from app.models import Organisation
from app.services import pictures
from app.services.errors import ValidationError, require
from app.services.input_checks import single_line, web_address


def _number(value, field, low, high, message):
    """An integer from a form within [low, high]."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError(message, field=field) from None
    if not low <= number <= high:
        raise ValidationError(message, field=field)
    return number


def ensure_organisation(*, actor):
    """The organisation's settings row, created and stored on first use."""
    require(policy.can_manage_organisation(actor))
    org = Organisation.current()
    db.session.commit()
    return org


def _role_names(values):
    """Role names ("MEMBER", "MODERATOR", "ADMIN") from a form, in the order of the roles; others are refused."""
    values = set(values or ())
    if not values <= set(Role.__members__):
        raise ValidationError(_("Please choose a role."), field="two_factor_roles")
    return [role.name for role in Role if role.name in values]


def update_settings(*, name, public_base_url="", video_base_url="", autoclose_days=14, upload_limit_mb="",
                    logo=None, remove_logo=False, two_factor_roles=None, time_zone=None, actor):
    """Save name, URLs, auto-close days (1..365), upload limit (1..100 MB or None), the logo, the roles that must
    sign in with a second factor (role names; None keeps them) and the time zone (an IANA name of
    `time_zones.zone_names()`; None keeps it; a new zone recounts the report data, which counts local days). Raises
    ValidationError."""
    require(policy.can_manage_organisation(actor))
    org = Organisation.current()
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationError(_("Please enter the organisation's name (at most 120 characters)."), field="name")
    single_line(name, "name")
    public = web_address(public_base_url, "public_base_url").rstrip("/")
    video = web_address(video_base_url, "video_base_url")
    days = _number(autoclose_days, "autoclose_days", 1, 365, _("Please enter a number of days from 1 to 365."))
    limit = None
    if str(upload_limit_mb or "").strip():
        limit = _number(upload_limit_mb, "upload_limit_mb", 1, 100, _("Please enter a size from 1 to 100 MB."))
    roles = org.two_factor_roles if two_factor_roles is None else _role_names(two_factor_roles)
    if time_zone is not None:
        check_time_zone(time_zone)
    logo_name = pictures.store_logo(logo)
    org.name, org.public_base_url, org.video_base_url = name, public or None, video or None
    org.autoclose_days, org.upload_limit_mb, org.two_factor_roles = days, limit, roles
    if logo_name or remove_logo:
        pictures.remove(org.logo_name)
        org.logo_name = logo_name
    zone_changed = time_zone is not None and stage_time_zone(org, time_zone)
    db.session.commit()
    if zone_changed:
        after_time_zone_change()
    return org



def check_time_zone(name):
    """`name` when it is one of `time_zones.zone_names()`; ValidationError (field `time_zone`) otherwise."""
    if not time_zones.is_zone(name or ""):
        raise ValidationError(_("Please choose a time zone from the list."), field="time_zone")
    return name


def stage_time_zone(org, name):
    """Set the organisation's zone to `name` (checked) in the open transaction; True when it changed, and then the
    caller runs `after_time_zone_change()` after its commit. The one way the organisation's zone changes (the
    settings page and the business calendar both come here)."""
    check_time_zone(name)
    if org.time_zone == name:
        return False
    org.time_zone = name
    return True


def after_time_zone_change():
    """Recount what counts local days in the organisation's zone: the report data (some seconds at 100,000
    tickets)."""
    from app.services import reports

    reports.rebuild()
