"""Webhook endpoints for administrators: register, edit, rotate the secret, send a test event, read the log."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import labels, policy
from app.blueprints.admin import bp
from app.blueprints.admin.forms import WebhookEndpointForm
from app.enums import WebhookEventType
from app.extensions import db
from app.models import WebhookEndpoint
from app.refusals import back_on_refusal
from app.services import webhooks as hooks


def _endpoint_or_404(endpoint_id):
    """The endpoint, after the administrators-only check (403 for everyone else, 404 for an unknown id)."""
    if not policy.can_manage_webhooks(current_user):
        abort(403)
    return db.get_or_404(WebhookEndpoint, endpoint_id)


def _event_label(value):
    """The reader's name of an event type value (the value itself for one this version does not know)."""
    try:
        return labels.WEBHOOK_EVENT[WebhookEventType(value)]
    except ValueError:
        return value


@bp.get("/webhooks")
def webhooks():
    """Every webhook endpoint with its events and state. Administrators only."""
    if not policy.can_manage_webhooks(current_user):
        abort(403)
    return render_template("admin/webhooks.html", endpoints=hooks.endpoints(), event_label=_event_label)


@bp.route("/webhooks/new", methods=["GET", "POST"])
def webhook_new():
    """Register an endpoint; its secret is made here and shown on its page."""
    if not policy.can_manage_webhooks(current_user):
        abort(403)
    form = WebhookEndpointForm()
    form.render_on_refusal("admin/webhook_form.html", form=form, endpoint=None)
    if form.submitted():
        endpoint = hooks.save_endpoint(None, **form.data, actor=current_user)
        flash(_("Webhook endpoint created. Copy its secret into the receiving system."), "success")
        return redirect(url_for("admin.webhook", endpoint_id=endpoint.id))
    return render_template("admin/webhook_form.html", form=form, endpoint=None)


@bp.route("/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
def webhook(endpoint_id):
    """An endpoint: its settings, its secret, the test event and the way to its delivery log."""
    endpoint = _endpoint_or_404(endpoint_id)
    form = WebhookEndpointForm(obj=endpoint)
    page = {"endpoint": endpoint, "form": form, "pending": hooks.pending_count(endpoint)}
    form.render_on_refusal("admin/webhook.html", **page)
    if form.submitted():
        hooks.save_endpoint(endpoint, **form.data, actor=current_user)
        flash(_("Webhook endpoint saved."), "success")
        return redirect(url_for("admin.webhook", endpoint_id=endpoint.id))
    return render_template("admin/webhook.html", **page)


@bp.post("/webhooks/<int:endpoint_id>/secret")
def webhook_rotate(endpoint_id):
    """Replace the endpoint's secret with a new one."""
    endpoint = _endpoint_or_404(endpoint_id)
    back = back_on_refusal(url_for("admin.webhook", endpoint_id=endpoint.id))
    hooks.rotate_secret(endpoint, actor=current_user)
    flash(_("New secret made. Events are signed with it from now on."), "success")
    return redirect(back)


@bp.post("/webhooks/<int:endpoint_id>/ping")
def webhook_ping(endpoint_id):
    """Queue a test event for the endpoint, then show its delivery log."""
    endpoint = _endpoint_or_404(endpoint_id)
    back_on_refusal(url_for("admin.webhook", endpoint_id=endpoint.id))
    hooks.send_test_event(endpoint, actor=current_user)
    flash(_("Test event queued. It is sent within seconds; its delivery appears below."), "success")
    return redirect(url_for("admin.webhook_deliveries", endpoint_id=endpoint.id))


@bp.post("/webhooks/<int:endpoint_id>/delete")
def webhook_delete(endpoint_id):
    """Remove the endpoint with its delivery log."""
    endpoint = _endpoint_or_404(endpoint_id)
    back_on_refusal(url_for("admin.webhook", endpoint_id=endpoint.id))
    hooks.delete_endpoint(endpoint, actor=current_user)
    flash(_("Webhook endpoint deleted."), "success")
    return redirect(url_for("admin.webhooks"))


@bp.get("/webhooks/<int:endpoint_id>/deliveries")
def webhook_deliveries(endpoint_id):
    """The endpoint's deliveries, newest first: time, event, attempts, answer, error, next attempt."""
    endpoint = _endpoint_or_404(endpoint_id)
    return render_template(
        "admin/webhook_deliveries.html", endpoint=endpoint, rows=hooks.delivery_log(endpoint),
        limit=hooks.LOG_ROWS, event_label=_event_label,
    )
