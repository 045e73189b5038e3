"""Shared setup for the messenger tests: a PUBLIC ticket, a code user's browser, employees by role."""
from app.enums import Role
from app.identity import sign_code_user_key
from app.services import offers
from tests.factories import (
    make_code,
    make_code_visitor,
    make_device,
    make_employee,
    make_flow,
    make_public_ticket,
    make_template,
)


class Scene:
    """A PUBLIC ticket created by a code user, a moderator, a responsible member and a bystander member."""

    def __init__(self, app):
        template = make_template()
        self.flow = make_flow(template)
        self.device = make_device(template)
        self.code = make_code(self.device)
        self.visitor = make_code_visitor(self.code)
        self.ticket = make_public_ticket(self.flow, self.device, self.visitor)
        self.moderator = make_employee(Role.MODERATOR)
        self.member = make_employee(Role.MEMBER)
        self.bystander = make_employee(Role.MEMBER)
        offers.assign_employee(self.ticket, self.member, actor=self.moderator)
        self.app = app

    def code_client(self, client):
        """Make `client` the code user's browser."""
        client.set_cookie(
            self.app.config["CODE_USER_COOKIE"], sign_code_user_key(self.visitor.code_user.key), domain="localhost"
        )
        return client
