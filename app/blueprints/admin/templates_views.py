"""Templates with their flows and steps, routing groups and assistant."""
import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.admin.core import (
    act,
    bp,
    checked,
    direction,
    form_page,
    load,
    render,
)
from app.enums import ButtonTarget
from app.extensions import db
from app.models import (
    ActionButton,
    AssistantElement,
    Employee,
    Flow,
    Group,
    Step,
    Team,
    Template,
)
from app.services import catalog
from app.services.errors import ValidationError


@bp.get("/")
def index():
    """The administration start page."""
    return render("admin/index.html")


# ---------------------------------------------------------------- templates


@bp.get("/templates")
def templates():
    """All templates, archived ones last."""
    rows = db.session.scalars(sa.select(Template).order_by(Template.archived, Template.name)).all()
    return render("admin/templates.html", templates=rows)


def _template_fields():
    """Template form values from the request."""
    form = request.form
    return {"name": form.get("name"), "description": form.get("description"), "ratings_enabled": checked("ratings_enabled")}


@bp.route("/templates/new", methods=["GET", "POST"])
def template_new():
    """Create a template."""
    if request.method == "POST":
        try:
            template = catalog.save_template(None, **_template_fields(), actor=current_user)
        except ValidationError as error:
            return form_page("admin/template_form.html", error=error, template=None)
        flash(_("Template “%(name)s” created.", name=template.name), "success")
        return redirect(url_for("admin.template", template_id=template.id))
    return form_page("admin/template_form.html", template=None, values={"ratings_enabled": True})


@bp.route("/templates/<int:template_id>", methods=["GET", "POST"])
def template(template_id):
    """A template's settings with its flows, groups and assistant."""
    template = load(Template, template_id)
    values = {"name": template.name, "description": template.description, "ratings_enabled": template.ratings_enabled}
    if request.method == "POST":
        try:
            catalog.save_template(template, **_template_fields(), actor=current_user)
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/template.html", error=error, template=template, values=values)
        flash(_("Template saved."), "success")
        return redirect(url_for("admin.template", template_id=template.id))
    return form_page("admin/template.html", template=template, values=values)


@bp.post("/templates/<int:template_id>/archive")
def template_archive(template_id):
    """Archive or restore a template."""
    template = load(Template, template_id)
    archived = checked("archived")
    return act(
        lambda: catalog.set_template_archived(template, archived, actor=current_user),
        url_for("admin.template", template_id=template.id),
        _("Template archived.") if archived else _("Template restored."),
    )


@bp.post("/templates/<int:template_id>/delete")
def template_delete(template_id):
    """Delete a template, or archive it while devices use it."""
    template = load(Template, template_id)
    outcome = catalog.delete_template(template, actor=current_user)
    if outcome == "archived":
        flash(_("The template is used by devices, so it was archived instead of deleted."), "info")
        return redirect(url_for("admin.template", template_id=template_id))
    flash(_("Template deleted."), "success")
    return redirect(url_for("admin.templates"))


# ---------------------------------------------------------------- groups


def _people():
    """Active employees and all teams, for member pickers."""
    employees = db.session.scalars(sa.select(Employee).order_by(Employee.name)).all()
    teams = db.session.scalars(sa.select(Team).order_by(Team.name)).all()
    return employees, teams


def _group_fields():
    """Group form values from the request."""
    form = request.form
    return {"name": form.get("name"), "employee_ids": form.getlist("employee_ids"), "team_ids": form.getlist("team_ids")}


@bp.route("/templates/<int:template_id>/groups/new", methods=["GET", "POST"])
def group_new(template_id):
    """Add a fleet or notify group to a template."""
    template = load(Template, template_id)
    employees, teams = _people()
    kind = request.values.get("kind", "fleet")
    if request.method == "POST":
        try:
            catalog.save_group(None, template=template, kind=kind, **_group_fields(), actor=current_user)
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/group_form.html", error=error, template=template, group=None,
                             employees=employees, teams=teams, values={"kind": kind})
        flash(_("Group saved."), "success")
        return redirect(url_for("admin.template", template_id=template.id) + "#groups")
    return form_page("admin/group_form.html", template=template, group=None, employees=employees, teams=teams,
                     values={"kind": kind, "employee_ids": [], "team_ids": []})


@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
def group(group_id):
    """Edit a group's name and members."""
    group = load(Group, group_id)
    employees, teams = _people()
    values = {
        "name": group.name,
        "kind": group.kind.value,
        "employee_ids": [str(e.id) for e in group.employees],
        "team_ids": [str(t.id) for t in group.teams],
    }
    if request.method == "POST":
        try:
            catalog.save_group(group, **_group_fields(), actor=current_user)
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/group_form.html", error=error, template=group.template, group=group,
                             employees=employees, teams=teams, values=values)
        flash(_("Group saved."), "success")
        return redirect(url_for("admin.template", template_id=group.template_id) + "#groups")
    return form_page("admin/group_form.html", template=group.template, group=group, employees=employees, teams=teams,
                     values=values)


@bp.post("/groups/<int:group_id>/move")
def group_move(group_id):
    """Move a group up or down (the first of each kind is the default)."""
    group = load(Group, group_id)
    way = direction()
    return act(lambda: catalog.move_group(group, way, actor=current_user),
               url_for("admin.template", template_id=group.template_id) + "#groups")


@bp.post("/groups/<int:group_id>/delete")
def group_delete(group_id):
    """Delete a group."""
    group = load(Group, group_id)
    template_id = group.template_id
    return act(lambda: catalog.delete_group(group, actor=current_user),
               url_for("admin.template", template_id=template_id) + "#groups", _("Group deleted."))


# ---------------------------------------------------------------- flows


def _flow_fields():
    """Flow form values from the request."""
    form = request.form
    return {
        "title": form.get("title"),
        "description": form.get("description"),
        "fleet_group_id": form.get("fleet_group_id"),
        "notify_group_id": form.get("notify_group_id"),
    }


@bp.route("/templates/<int:template_id>/flows/new", methods=["GET", "POST"])
def flow_new(template_id):
    """Create a flow; steps are added in the builder next."""
    template = load(Template, template_id)
    if request.method == "POST":
        try:
            flow = catalog.save_flow(None, template=template, **_flow_fields(), actor=current_user)
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/flow_form.html", error=error, template=template, flow=None)
        flash(_("Flow created. Add its steps, then activate it."), "success")
        return redirect(url_for("admin.flow", flow_id=flow.id))
    return form_page("admin/flow_form.html", template=template, flow=None)


def _step_types():
    """Step types a flow may contain."""
    return catalog.EDITABLE_STEP_TYPES


@bp.route("/flows/<int:flow_id>", methods=["GET", "POST"])
def flow(flow_id):
    """The flow builder: settings, steps (edit, reorder, remove) and a form to add a step."""
    flow = load(Flow, flow_id)
    values = {
        "title": flow.title,
        "description": flow.description,
        "fleet_group_id": str(flow.fleet_group_id or ""),
        "notify_group_id": str(flow.notify_group_id or ""),
    }
    if request.method == "POST":
        try:
            catalog.save_flow(flow, **_flow_fields(), actor=current_user)
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/flow.html", error=error, flow=flow, step_types=_step_types(), values=values,
                             step_values={"type": "text_short"}, tickets=catalog.ticket_count(flow_id=flow.id))
        flash(_("Flow saved."), "success")
        return redirect(url_for("admin.flow", flow_id=flow.id))
    return form_page("admin/flow.html", flow=flow, step_types=_step_types(), values=values,
                     step_values={"type": "text_short", "required": True}, tickets=catalog.ticket_count(flow_id=flow.id))


@bp.post("/flows/<int:flow_id>/active")
def flow_active(flow_id):
    """Activate or deactivate a flow."""
    flow = load(Flow, flow_id)
    active = checked("active")
    return act(lambda: catalog.set_flow_active(flow, active, actor=current_user),
               url_for("admin.flow", flow_id=flow.id),
               _("The flow is active now.") if active else _("The flow is inactive now."))


@bp.post("/flows/<int:flow_id>/move")
def flow_move(flow_id):
    """Change the order of a template's flows."""
    flow = load(Flow, flow_id)
    way = direction()
    return act(lambda: catalog.move_flow(flow, way, actor=current_user),
               url_for("admin.template", template_id=flow.template_id) + "#flows")


@bp.post("/flows/<int:flow_id>/delete")
def flow_delete(flow_id):
    """Delete a flow, or deactivate it when tickets were made with it."""
    flow = load(Flow, flow_id)
    template_id = flow.template_id
    outcome = catalog.delete_flow(flow, actor=current_user)
    if outcome == "deactivated":
        flash(_("Tickets were created with this flow, so it was deactivated instead of deleted."), "info")
        return redirect(url_for("admin.flow", flow_id=flow_id))
    flash(_("Flow deleted."), "success")
    return redirect(url_for("admin.template", template_id=template_id) + "#flows")


@bp.get("/flows/<int:flow_id>/preview")
def flow_preview(flow_id):
    """The flow's steps as a code user sees them, read-only."""
    flow = load(Flow, flow_id)
    return render("admin/flow_preview.html", flow=flow)


# ---------------------------------------------------------------- steps


def _step_fields():
    """Step form values from the request."""
    form = request.form
    return {
        "type": form.get("type"),
        "question": form.get("question"),
        "help_text": form.get("help_text"),
        "required": checked("required"),
        "options": form.get("options"),
        "is_title": checked("is_title"),
    }


@bp.post("/flows/<int:flow_id>/steps")
def step_new(flow_id):
    """Add a step at the end of the flow."""
    flow = load(Flow, flow_id)
    try:
        catalog.save_step(None, flow=flow, **_step_fields(), actor=current_user)
    except ValidationError as error:
        db.session.rollback()
        values = {"title": flow.title, "description": flow.description,
                  "fleet_group_id": str(flow.fleet_group_id or ""), "notify_group_id": str(flow.notify_group_id or "")}
        return render("admin/flow.html", status=422, flow=flow, step_types=_step_types(), values=values,
                      errors={}, step_errors={error.field or "_form": error.message}, step_values=dict(request.form),
                      tickets=catalog.ticket_count(flow_id=flow.id))
    flash(_("Step added."), "success")
    return redirect(url_for("admin.flow", flow_id=flow.id) + "#steps")


@bp.route("/steps/<int:step_id>", methods=["GET", "POST"])
def step(step_id):
    """Edit one step."""
    step = load(Step, step_id)
    values = {
        "type": step.type.value,
        "question": step.question,
        "help_text": step.help_text,
        "required": step.required,
        "options": "\n".join(step.options or []),
        "is_title": step.is_title,
    }
    if request.method == "POST":
        try:
            catalog.save_step(step, **_step_fields(), actor=current_user)
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/step_form.html", error=error, step=step, step_types=_step_types(), values=values)
        flash(_("Step saved."), "success")
        return redirect(url_for("admin.flow", flow_id=step.flow_id) + "#steps")
    return form_page("admin/step_form.html", step=step, step_types=_step_types(), values=values)


@bp.post("/steps/<int:step_id>/move")
def step_move(step_id):
    """Move a step up or down."""
    step = load(Step, step_id)
    way = direction()
    return act(lambda: catalog.move_step(step, way, actor=current_user),
               url_for("admin.flow", flow_id=step.flow_id) + "#steps")


@bp.post("/steps/<int:step_id>/delete")
def step_delete(step_id):
    """Remove a step."""
    step = load(Step, step_id)
    flow_id = step.flow_id
    return act(lambda: catalog.delete_step(step, actor=current_user),
               url_for("admin.flow", flow_id=flow_id) + "#steps", _("Step removed."))


# ---------------------------------------------------------------- assistant


@bp.route("/templates/<int:template_id>/assistant", methods=["GET", "POST"])
def assistant(template_id):
    """A template's assistant elements; the form adds one."""
    template = load(Template, template_id)
    if request.method == "POST":
        try:
            element = catalog.save_element(None, template=template, title=request.form.get("title"),
                                           body=request.form.get("body"), actor=current_user)
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/assistant.html", error=error, template=template)
        flash(_("Element added."), "success")
        return redirect(url_for("admin.element", element_id=element.id))
    return form_page("admin/assistant.html", template=template)


@bp.route("/elements/<int:element_id>", methods=["GET", "POST"])
def element(element_id):
    """Edit an element's title and Markdown body; its buttons below."""
    element = load(AssistantElement, element_id)
    values = {"title": element.title, "body": element.body}
    context = {"element": element, "targets": list(ButtonTarget), "button_values": {"target": "flow"}}
    if request.method == "POST":
        try:
            catalog.save_element(element, title=request.form.get("title"), body=request.form.get("body"),
                                 actor=current_user)
        except ValidationError as error:
            db.session.rollback()
            return form_page("admin/element.html", error=error, values=values, **context)
        flash(_("Element saved."), "success")
        return redirect(url_for("admin.element", element_id=element.id))
    return form_page("admin/element.html", values=values, **context)


@bp.get("/elements/<int:element_id>/preview")
def element_preview(element_id):
    """The element as code users see it."""
    element = load(AssistantElement, element_id)
    return render("admin/element_preview.html", element=element)


@bp.post("/elements/<int:element_id>/move")
def element_move(element_id):
    """Move an element up or down."""
    element = load(AssistantElement, element_id)
    way = direction()
    return act(lambda: catalog.move_element(element, way, actor=current_user),
               url_for("admin.assistant", template_id=element.template_id))


@bp.post("/elements/<int:element_id>/start")
def element_start(element_id):
    """Make the element the start page."""
    element = load(AssistantElement, element_id)
    return act(lambda: catalog.make_start_element(element, actor=current_user),
               url_for("admin.assistant", template_id=element.template_id), _("Start page changed."))


@bp.post("/elements/<int:element_id>/delete")
def element_delete(element_id):
    """Delete an element."""
    element = load(AssistantElement, element_id)
    template_id = element.template_id
    return act(lambda: catalog.delete_element(element, actor=current_user),
               url_for("admin.assistant", template_id=template_id), _("Element deleted."))


def _button_fields():
    """Button form values from the request."""
    form = request.form
    return {
        "label": form.get("label"),
        "target": form.get("target"),
        "target_element_id": form.get("target_element_id"),
        "target_flow_id": form.get("target_flow_id"),
        "url": form.get("url"),
    }


@bp.post("/elements/<int:element_id>/buttons")
def button_new(element_id):
    """Add an action button to an element."""
    element = load(AssistantElement, element_id)
    try:
        catalog.save_button(None, element=element, **_button_fields(), actor=current_user)
    except ValidationError as error:
        db.session.rollback()
        return render("admin/element.html", status=422, element=element, targets=list(ButtonTarget),
                      values={"title": element.title, "body": element.body}, errors={},
                      button_errors={error.field or "_form": error.message}, button_values=dict(request.form))
    flash(_("Button added."), "success")
    return redirect(url_for("admin.element", element_id=element.id) + "#buttons")


@bp.post("/buttons/<int:button_id>/move")
def button_move(button_id):
    """Move a button."""
    button = load(ActionButton, button_id)
    way = direction()
    return act(lambda: catalog.move_button(button, way, actor=current_user),
               url_for("admin.element", element_id=button.element_id) + "#buttons")


@bp.post("/buttons/<int:button_id>/delete")
def button_delete(button_id):
    """Remove a button."""
    button = load(ActionButton, button_id)
    element_id = button.element_id
    return act(lambda: catalog.delete_button(button, actor=current_user),
               url_for("admin.element", element_id=element_id) + "#buttons", _("Button removed."))


