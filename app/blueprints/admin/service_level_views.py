"""The business calendar and the service levels (administrators)."""
from datetime import date
from functools import wraps

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import business_hours, policy, time_zones
from app.blueprints.admin import bp
from app.blueprints.admin.service_level_forms import (
    STATE_NAMES,
    CalendarForm,
    ServiceLevelForm,
)
from app.extensions import db
from app.models import ServiceLevel
from app.models._types import utcnow
from app.refusals import back_on_refusal
from app.services import service_levels


def service_level_admins(view):
    """The calendar and the levels are for administrators (policy.can_manage_service_levels): 403 for others."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        """Refuse everyone else with 403."""
        if not (policy.can_manage_service_levels(current_user) and policy.can_manage_calendar(current_user)):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def _clock(minute):
    """"08:00" for 480 local minutes."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


@bp.route("/calendar", methods=["GET", "POST"])
@service_level_admins
def business_calendar():
    """Working days and hours, the state whose public holidays count, further closed days, the zone."""
    row = service_levels.calendar_row()
    initial = {
        "time_zone": time_zones.organisation_zone(),
        "weekdays": [str(day) for day in (row.weekdays if row else [0, 1, 2, 3, 4])],
        "start": _clock(row.start_minute if row else 8 * 60),
        "end": _clock(row.end_minute if row else 17 * 60),
        "holiday_state": row.holiday_state if row else "",
        "closed_days": "\n".join(date.fromisoformat(day).strftime("%d.%m.%Y") for day in (row.closed_days if row else [])),
    }
    form = CalendarForm(data=initial)
    year = utcnow().year
    context = {"form": form, "year": year}
    form.render_on_refusal("admin/calendar.html", **context, holidays={}, state_name="")
    if form.submitted():
        service_levels.save_calendar(**{name: form[name].data for name in initial}, actor=current_user)
        flash(_("Business calendar saved."), "success")
        return redirect(url_for("admin.business_calendar"))
    state = row.holiday_state if row else ""
    return render_template("admin/calendar.html", **context, holidays=business_hours.holiday_names(state, year),
                           state_name=STATE_NAMES.get(state, ""))


@bp.get("/service-levels")
@service_level_admins
def service_level_list():
    """Every level with its scope and targets."""
    return render_template("admin/service_levels.html", levels=service_levels.all_levels(),
                           fmt=business_hours.format_minutes)


def _level_form(level, form):
    """The form page of `level` (None: a new one); a valid submission saves it and goes back to the list, a
    refused one shows the form again with the refusal (form.render_on_refusal)."""
    form.render_on_refusal("admin/service_level_form.html", form=form, level=level)
    if form.submitted():
        service_levels.save_level(level, **form.level_data(), actor=current_user)
        flash(_("Service level saved."), "success")
        return redirect(url_for("admin.service_level_list"))
    return render_template("admin/service_level_form.html", form=form, level=level)


@bp.route("/service-levels/new", methods=["GET", "POST"])
@service_level_admins
def service_level_new():
    """Create a level."""
    return _level_form(None, ServiceLevelForm())


@bp.route("/service-levels/<int:level_id>", methods=["GET", "POST"])
@service_level_admins
def service_level_edit(level_id):
    """Change a level's scope, targets or pausing rule."""
    level = db.get_or_404(ServiceLevel, level_id)
    form = ServiceLevelForm(data={
        "template_id": level.template_id, "flow_id": level.flow_id, "priority": level.priority.value if level.priority else "",
        "first_response_minutes": level.first_response_minutes, "assignment_minutes": level.assignment_minutes,
        "resolution_minutes": level.resolution_minutes, "pause_while_waiting": level.pause_while_waiting,
    })
    return _level_form(level, form)


@bp.post("/service-levels/<int:level_id>/delete")
@service_level_admins
def service_level_delete(level_id):
    """Remove a level; tickets keep the targets they were given."""
    level = db.get_or_404(ServiceLevel, level_id)
    back_on_refusal(url_for("admin.service_level_edit", level_id=level_id))
    service_levels.delete_level(level, actor=current_user)
    flash(_("Service level deleted."), "success")
    return redirect(url_for("admin.service_level_list"))
