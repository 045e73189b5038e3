"""The one view of a wizard step, used by the code users' and the staff's blueprint with their own URLs."""
from functools import partial

from flask import abort, flash, redirect, request

from app import policy
from app.blueprints.wizard.forms import step_form
from app.htmx import redirect_after_write, render
from app.refusals import on_refusal
from app.services import drafts
from app.workflow import TicketStatus


def step_view(ticket, position, *, actor, template, step_url, exit_url, done_url, done_message=None):
    """Show step `position` of a draft (GET), or answer it (POST) and go to the next step or, once submitted, to
    `done_url` with `done_message` flashed; 404 unless the actor may edit the draft. `step_url(position)` builds a
    step's URL. Back (`go=back`) keeps what was typed on the step and goes to the previous one, or from the first
    step to `exit_url`. A refusal re-renders the step with what was typed (422/409/403); a required answer missing on
    another step is flashed there. A ticket that is no draft any more goes to `done_url`."""
    if ticket.status != TicketStatus.DRAFT:
        return redirect(done_url)
    if not policy.can_edit_draft(actor, ticket):
        abort(404)
    answer = next((a for a in ticket.answers if a.position == position), None)
    if answer is None:
        abort(404)
    form = step_form(answer)
    page = partial(
        render,
        template,
        block="wizard",
        ticket=ticket,
        answer=answer,
        form=form,
        position=position,
        total=len(ticket.answers),
        form_action=step_url(position),
    )
    if request.method != "POST":
        return page()
    on_refusal(partial(_refused, form=form, page=page, position=position, step_url=step_url))
    going_back = request.form.get("go") == "back"
    progress = drafts.answer_step(
        ticket, position, form.answer_data(), form.uploads(), actor=actor, going_back=going_back
    )
    if going_back:
        return redirect_after_write(step_url(progress.next_position) if progress.next_position >= 0 else exit_url)
    if not progress.submitted:
        return redirect_after_write(step_url(progress.next_position))
    if done_message:
        flash(done_message, "success")
    return redirect_after_write(done_url)


def _refused(error, *, form, page, position, step_url):
    """The step again with the message on its field; an answer missing on another step is flashed there."""
    if isinstance(error.field, int) and error.field != position:
        flash(error.message, "error")
        return redirect_after_write(step_url(error.field))
    form.show_refusal(error)
    return page()
