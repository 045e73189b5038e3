"""Templates with their flows and steps, routing groups and assistant."""
import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.admin import bp, search_arg, searched
from app.blueprints.admin.forms import (
    ActiveForm,
    ArchiveForm,
    ButtonForm,
    ElementForm,
    FlowForm,
    GroupForm,
    MoveForm,
    StepForm,
    TemplateForm,
)
from app.extensions import db
from app.models import ActionButton, AssistantElement, Flow, Group, Step, Template
from app.refusals import back_on_refusal
from app.services.assistant import (
    delete_button,
    delete_element,
    make_start_element,
    move_button,
    move_element,
    save_button,
    save_element,
)
from app.services.flows import (
    delete_flow,
    delete_step,
    move_flow,
    move_step,
    save_flow,
    save_step,
    set_flow_active,
)
from app.services.groups import delete_group, move_group, save_group
from app.services.templates import delete_template, save_template, set_template_archived
from app.services.ticket_counts import ticket_count


@bp.get("/")
def index():
    """The administration start page."""
    return render_template("admin/index.html")


@bp.get("/templates")
def templates():
    """All templates, archived ones last, with an optional search by name or description (folded)."""
    search = search_arg()
    rows = db.session.scalars(searched(sa.select(Template).order_by(Template.archived, Template.name), Template, search)).all()
    return render_template("admin/templates.html", templates=rows, search=search)


@bp.route("/templates/new", methods=["GET", "POST"])
def template_new():
    """Create a template."""
    form = TemplateForm()
    form.render_on_refusal("admin/template_form.html", form=form, template=None)
    if form.submitted():
        template = save_template(None, **form.data, actor=current_user)
        flash(_("Template “%(name)s” created.", name=template.name), "success")
        return redirect(url_for("admin.template", template_id=template.id))
    return render_template("admin/template_form.html", form=form, template=None)


@bp.route("/templates/<int:template_id>", methods=["GET", "POST"])
def template(template_id):
    """A template's settings with its flows, groups and assistant."""
    template = db.get_or_404(Template, template_id)
    form = TemplateForm(obj=template)
    form.render_on_refusal("admin/template.html", form=form, template=template)
    if form.submitted():
        save_template(template, **form.data, actor=current_user)
        flash(_("Template saved."), "success")
        return redirect(url_for("admin.template", template_id=template.id))
    return render_template("admin/template.html", form=form, template=template)


@bp.post("/templates/<int:template_id>/archive")
def template_archive(template_id):
    """Archive or restore a template."""
    template = db.get_or_404(Template, template_id)
    back = back_on_refusal(url_for("admin.template", template_id=template.id))
    archived = ArchiveForm().archived.data
    set_template_archived(template, archived, actor=current_user)
    flash(_("Template archived.") if archived else _("Template restored."), "success")
    return redirect(back)


@bp.post("/templates/<int:template_id>/delete")
def template_delete(template_id):
    """Delete a template, or archive it while devices use it."""
    template = db.get_or_404(Template, template_id)
    if delete_template(template, actor=current_user) == "archived":
        flash(_("The template is used by devices, so it was archived instead of deleted."), "info")
        return redirect(url_for("admin.template", template_id=template_id))
    flash(_("Template deleted."), "success")
    return redirect(url_for("admin.templates"))


def _groups_of(template_id):
    """The groups section of a template's page."""
    return url_for("admin.template", template_id=template_id) + "#groups"


@bp.route("/templates/<int:template_id>/groups/new", methods=["GET", "POST"])
def group_new(template_id):
    """Add a fleet or notify group (`?kind=`) to a template."""
    template = db.get_or_404(Template, template_id)
    form = GroupForm(kind=request.args.get("kind", "fleet"))
    form.render_on_refusal("admin/group_form.html", form=form, template=template, group=None)
    if form.submitted():
        save_group(None, template=template, **form.data, actor=current_user)
        flash(_("Group saved."), "success")
        return redirect(_groups_of(template.id))
    return render_template("admin/group_form.html", form=form, template=template, group=None)


@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
def group(group_id):
    """Edit a group's name and members."""
    group = db.get_or_404(Group, group_id)
    form = GroupForm(obj=group, employee_ids=[e.id for e in group.employees], team_ids=[t.id for t in group.teams])
    form.render_on_refusal("admin/group_form.html", form=form, template=group.template, group=group)
    if form.submitted():
        save_group(group, **form.data, actor=current_user)
        flash(_("Group saved."), "success")
        return redirect(_groups_of(group.template_id))
    return render_template("admin/group_form.html", form=form, template=group.template, group=group)


@bp.post("/groups/<int:group_id>/move")
def group_move(group_id):
    """Move a group up or down (the first of each kind is the default)."""
    group = db.get_or_404(Group, group_id)
    back = back_on_refusal(_groups_of(group.template_id))
    move_group(group, MoveForm().way, actor=current_user)
    return redirect(back)


@bp.post("/groups/<int:group_id>/delete")
def group_delete(group_id):
    """Delete a group."""
    group = db.get_or_404(Group, group_id)
    back = back_on_refusal(_groups_of(group.template_id))
    delete_group(group, actor=current_user)
    flash(_("Group deleted."), "success")
    return redirect(back)


@bp.route("/templates/<int:template_id>/flows/new", methods=["GET", "POST"])
def flow_new(template_id):
    """Create a flow; steps are added in the builder next."""
    template = db.get_or_404(Template, template_id)
    form = FlowForm(template=template)
    form.render_on_refusal("admin/flow_form.html", form=form, template=template)
    if form.submitted():
        flow = save_flow(None, template=template, **form.data, actor=current_user)
        flash(_("Flow created. Add its steps, then activate it."), "success")
        return redirect(url_for("admin.flow", flow_id=flow.id))
    return render_template("admin/flow_form.html", form=form, template=template)


def _builder(flow, *, form=None, step_form=None):
    """The flow builder page's context: the flow, its ticket count, its settings form and the add-step form."""
    return {
        "flow": flow,
        "tickets": ticket_count(flow_id=flow.id),
        "form": form or FlowForm(formdata=None, obj=flow, template=flow.template),
        "step_form": step_form or StepForm(formdata=None, id_prefix="s-"),
    }


@bp.route("/flows/<int:flow_id>", methods=["GET", "POST"])
def flow(flow_id):
    """The flow builder: settings, steps (edit, reorder, remove) and a form to add a step."""
    flow = db.get_or_404(Flow, flow_id)
    form = FlowForm(obj=flow, template=flow.template)
    page = _builder(flow, form=form)
    form.render_on_refusal("admin/flow.html", **page)
    if form.submitted():
        save_flow(flow, **form.data, actor=current_user)
        flash(_("Flow saved."), "success")
        return redirect(url_for("admin.flow", flow_id=flow.id))
    return render_template("admin/flow.html", **page)


@bp.post("/flows/<int:flow_id>/active")
def flow_active(flow_id):
    """Activate or deactivate a flow."""
    flow = db.get_or_404(Flow, flow_id)
    back = back_on_refusal(url_for("admin.flow", flow_id=flow.id))
    active = ActiveForm().active.data
    set_flow_active(flow, active, actor=current_user)
    flash(_("The flow is active now.") if active else _("The flow is inactive now."), "success")
    return redirect(back)


@bp.post("/flows/<int:flow_id>/move")
def flow_move(flow_id):
    """Change the order of a template's flows."""
    flow = db.get_or_404(Flow, flow_id)
    back = back_on_refusal(url_for("admin.template", template_id=flow.template_id) + "#flows")
    move_flow(flow, MoveForm().way, actor=current_user)
    return redirect(back)


@bp.post("/flows/<int:flow_id>/delete")
def flow_delete(flow_id):
    """Delete a flow, or deactivate it when tickets were made with it."""
    flow = db.get_or_404(Flow, flow_id)
    template_id = flow.template_id
    if delete_flow(flow, actor=current_user) == "deactivated":
        flash(_("Tickets were created with this flow, so it was deactivated instead of deleted."), "info")
        return redirect(url_for("admin.flow", flow_id=flow_id))
    flash(_("Flow deleted."), "success")
    return redirect(url_for("admin.template", template_id=template_id) + "#flows")


@bp.get("/flows/<int:flow_id>/preview")
def flow_preview(flow_id):
    """The flow's steps as a code user sees them, read-only."""
    return render_template("admin/flow_preview.html", flow=db.get_or_404(Flow, flow_id))


@bp.post("/flows/<int:flow_id>/steps")
def step_new(flow_id):
    """Add a step at the end of the flow."""
    flow = db.get_or_404(Flow, flow_id)
    step_form = StepForm(id_prefix="s-")
    step_form.render_on_refusal("admin/flow.html", **_builder(flow, step_form=step_form))
    step_form.submitted()
    save_step(None, flow=flow, **step_form.data, actor=current_user)
    flash(_("Step added."), "success")
    return redirect(url_for("admin.flow", flow_id=flow.id) + "#steps")


@bp.route("/steps/<int:step_id>", methods=["GET", "POST"])
def step(step_id):
    """Edit one step."""
    step = db.get_or_404(Step, step_id)
    form = StepForm(obj=step, type=step.type.value, options="\n".join(step.options or []))
    form.render_on_refusal("admin/step_form.html", step_form=form, step=step)
    if form.submitted():
        save_step(step, **form.data, actor=current_user)
        flash(_("Step saved."), "success")
        return redirect(url_for("admin.flow", flow_id=step.flow_id) + "#steps")
    return render_template("admin/step_form.html", step_form=form, step=step)


@bp.post("/steps/<int:step_id>/move")
def step_move(step_id):
    """Move a step up or down."""
    step = db.get_or_404(Step, step_id)
    back = back_on_refusal(url_for("admin.flow", flow_id=step.flow_id) + "#steps")
    move_step(step, MoveForm().way, actor=current_user)
    return redirect(back)


@bp.post("/steps/<int:step_id>/delete")
def step_delete(step_id):
    """Remove a step."""
    step = db.get_or_404(Step, step_id)
    back = back_on_refusal(url_for("admin.flow", flow_id=step.flow_id) + "#steps")
    delete_step(step, actor=current_user)
    flash(_("Step removed."), "success")
    return redirect(back)


@bp.route("/templates/<int:template_id>/assistant", methods=["GET", "POST"])
def assistant(template_id):
    """A template's assistant elements; the form adds one."""
    template = db.get_or_404(Template, template_id)
    form = ElementForm()
    form.render_on_refusal("admin/assistant.html", form=form, template=template)
    if form.submitted():
        element = save_element(None, template=template, **form.data, actor=current_user)
        flash(_("Element added."), "success")
        return redirect(url_for("admin.element", element_id=element.id))
    return render_template("admin/assistant.html", form=form, template=template)


@bp.route("/elements/<int:element_id>", methods=["GET", "POST"])
def element(element_id):
    """Edit an element's title and Markdown body; its buttons below."""
    element = db.get_or_404(AssistantElement, element_id)
    form = ElementForm(obj=element)
    button_form = ButtonForm(formdata=None, element=element, id_prefix="b-")
    form.render_on_refusal("admin/element.html", form=form, element=element, button_form=button_form)
    if form.submitted():
        save_element(element, **form.data, actor=current_user)
        flash(_("Element saved."), "success")
        return redirect(url_for("admin.element", element_id=element.id))
    return render_template("admin/element.html", form=form, element=element, button_form=button_form)


@bp.get("/elements/<int:element_id>/preview")
def element_preview(element_id):
    """The element as code users see it."""
    return render_template("admin/element_preview.html", element=db.get_or_404(AssistantElement, element_id))


@bp.post("/elements/<int:element_id>/move")
def element_move(element_id):
    """Move an element up or down."""
    element = db.get_or_404(AssistantElement, element_id)
    back = back_on_refusal(url_for("admin.assistant", template_id=element.template_id))
    move_element(element, MoveForm().way, actor=current_user)
    return redirect(back)


@bp.post("/elements/<int:element_id>/start")
def element_start(element_id):
    """Make the element the start page."""
    element = db.get_or_404(AssistantElement, element_id)
    back = back_on_refusal(url_for("admin.assistant", template_id=element.template_id))
    make_start_element(element, actor=current_user)
    flash(_("Start page changed."), "success")
    return redirect(back)


@bp.post("/elements/<int:element_id>/delete")
def element_delete(element_id):
    """Delete an element."""
    element = db.get_or_404(AssistantElement, element_id)
    back = back_on_refusal(url_for("admin.assistant", template_id=element.template_id))
    delete_element(element, actor=current_user)
    flash(_("Element deleted."), "success")
    return redirect(back)


@bp.post("/elements/<int:element_id>/buttons")
def button_new(element_id):
    """Add an action button to an element."""
    element = db.get_or_404(AssistantElement, element_id)
    button_form = ButtonForm(element=element, id_prefix="b-")
    button_form.render_on_refusal("admin/element.html", button_form=button_form, element=element,
                                  form=ElementForm(formdata=None, obj=element))
    button_form.submitted()
    save_button(None, element=element, **button_form.data, actor=current_user)
    flash(_("Button added."), "success")
    return redirect(url_for("admin.element", element_id=element.id) + "#buttons")


@bp.post("/buttons/<int:button_id>/move")
def button_move(button_id):
    """Move a button."""
    button = db.get_or_404(ActionButton, button_id)
    back = back_on_refusal(url_for("admin.element", element_id=button.element_id) + "#buttons")
    move_button(button, MoveForm().way, actor=current_user)
    return redirect(back)


@bp.post("/buttons/<int:button_id>/delete")
def button_delete(button_id):
    """Remove a button."""
    button = db.get_or_404(ActionButton, button_id)
    back = back_on_refusal(url_for("admin.element", element_id=button.element_id) + "#buttons")
    delete_button(button, actor=current_user)
    flash(_("Button removed."), "success")
    return redirect(back)
