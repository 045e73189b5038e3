"""A template's assistant: Markdown elements code users read first, with action buttons to a flow, element or URL."""
import sqlalchemy as sa
from flask_babel import gettext as _

from app import policy
from app.enums import ButtonTarget
from app.extensions import db
from app.models import ActionButton, AssistantElement, Flow
from app.services.errors import ValidationError, require
from app.services.input_checks import optional_row, text, web_address
from app.services.ordering import move, remove, renumber


def save_element(element, *, template=None, title, body="", actor):
    """Create (element=None, with template) or edit an assistant element. Raises ValidationError."""
    require(policy.can_manage_catalog(actor))
    title = text(title, "title", max_length=160, required=True)
    body = text(body, "body", max_length=50000)
    if element is None:
        element = AssistantElement(template=template, position=len(template.elements))
        db.session.add(element)
    element.title, element.body = title, body
    db.session.commit()
    return element


def make_start_element(element, *, actor):
    """Put the element first: code users see it when they open a code."""
    require(policy.can_manage_catalog(actor))
    renumber([element] + [e for e in element.template.elements if e is not element])
    db.session.commit()


def move_element(element, direction, *, actor):
    """Move an element up (-1) or down (+1); the first one is the start page."""
    require(policy.can_manage_catalog(actor))
    move(element.template.elements, element, direction)
    db.session.commit()


def delete_element(element, *, actor):
    """Delete an element with its buttons; buttons pointing at it are removed too."""
    require(policy.can_manage_catalog(actor))
    template = element.template
    for button in db.session.scalars(sa.select(ActionButton).filter_by(target_element_id=element.id)).all():
        button.element.buttons.remove(button)
    db.session.delete(element)
    db.session.flush()
    db.session.expire(template, ["elements"])
    renumber(template.elements)
    db.session.commit()


def save_button(button, *, element=None, label, target, target_element_id=None, target_flow_id=None, url="", actor):
    """Create (button=None, with element) or edit an action button leading to an element, a flow or a URL.

    The element or flow must belong to the element's template. Raises ValidationError.
    """
    require(policy.can_manage_catalog(actor))
    element = element or button.element
    template = element.template
    label = text(label, "label", max_length=120, required=True)
    try:
        target = target if isinstance(target, ButtonTarget) else ButtonTarget(target)
    except ValueError:
        raise ValidationError(_("Please choose where the button leads."), field="target") from None
    target_element = target_flow = None
    if target == ButtonTarget.ELEMENT:
        target_element = optional_row(AssistantElement, target_element_id, "target_element_id", _("Please choose an element."))
        if target_element is None or target_element.template_id != template.id:
            raise ValidationError(_("Please choose an element."), field="target_element_id")
        url = None
    elif target == ButtonTarget.FLOW:
        target_flow = optional_row(Flow, target_flow_id, "target_flow_id", _("Please choose a flow."))
        if target_flow is None or target_flow.template_id != template.id:
            raise ValidationError(_("Please choose a flow."), field="target_flow_id")
        url = None
    else:
        url = web_address(url, "url")
        if not url:
            raise ValidationError(_("Please enter the web address."), field="url")
    if button is None:
        button = ActionButton(position=len(element.buttons))
        element.buttons.append(button)
    button.label, button.target, button.url = label, target, url
    button.target_element, button.target_flow = target_element, target_flow
    db.session.commit()
    return button


def move_button(button, direction, *, actor):
    """Move a button left/up (-1) or right/down (+1) on its element."""
    require(policy.can_manage_catalog(actor))
    move(button.element.buttons, button, direction)
    db.session.commit()


def delete_button(button, *, actor):
    """Remove a button."""
    require(policy.can_manage_catalog(actor))
    remove(button.element.buttons, button)
    db.session.commit()
