"""Device templates with their routing groups, creation flows, steps and assistant."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import ButtonTarget, GroupKind, StepType
from app.extensions import db
from app.models._search import SearchKeyed
from app.models._types import UTCDateTime, enum_column, utcnow

group_employees = sa.Table(
    "group_employees",
    db.metadata,
    sa.Column("group_id", sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("employee_id", sa.ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True),
)
group_teams = sa.Table(
    "group_teams",
    db.metadata,
    sa.Column("group_id", sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("team_id", sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
)


class Template(SearchKeyed, db.Model):
    """A device type; owns flows, groups, the assistant and the ratings switch."""

    __tablename__ = "templates"
    SEARCH_FIELDS = ("name", "description")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    ratings_enabled: Mapped[bool] = mapped_column(default=True)
    archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    flows = relationship("Flow", back_populates="template", order_by="Flow.position")
    groups = relationship("Group", back_populates="template", order_by="Group.position")
    elements = relationship("AssistantElement", back_populates="template", order_by="AssistantElement.position")

    def default_group(self, kind):
        """The first group of `kind`, or None."""
        return next((g for g in self.groups if g.kind == kind), None)

    @property
    def active_flows(self):
        """Flows code users and employees may start."""
        return [flow for flow in self.flows if flow.active]

    @property
    def start_element(self):
        """The assistant element code users see first."""
        return self.elements[0] if self.elements else None


class Group(db.Model):
    """Fleet or notify group of a template: employees and teams."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("templates.id", ondelete="CASCADE"), index=True)
    kind: Mapped[GroupKind] = mapped_column(enum_column(GroupKind))
    name: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column(default=0)

    template = relationship("Template", back_populates="groups")
    employees = relationship("Employee", secondary=group_employees, order_by="Employee.name")
    teams = relationship("Team", secondary=group_teams, order_by="Team.name")

    def all_employees(self):
        """Members directly and through teams, once each, active only."""
        seen = {}
        for employee in list(self.employees) + [m for team in self.teams for m in team.members]:
            if employee.active:
                seen.setdefault(employee.id, employee)
        return list(seen.values())


class Flow(db.Model):
    """A ticket creation flow: ordered steps and where its tickets go."""

    __tablename__ = "flows"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("templates.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    fleet_group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("groups.id", ondelete="SET NULL"))
    notify_group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("groups.id", ondelete="SET NULL"))

    template = relationship("Template", back_populates="flows")
    steps = relationship("Step", back_populates="flow", order_by="Step.position", cascade="all, delete-orphan")
    fleet_group = relationship("Group", foreign_keys=[fleet_group_id])
    notify_group = relationship("Group", foreign_keys=[notify_group_id])

    def effective_group(self, kind):
        """The flow's own group of `kind`, else the template's default."""
        own = self.fleet_group if kind == GroupKind.FLEET else self.notify_group
        return own or self.template.default_group(kind)


class Step(db.Model):
    """One question of a flow."""

    __tablename__ = "steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(sa.ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    type: Mapped[StepType] = mapped_column(enum_column(StepType))
    question: Mapped[str] = mapped_column(sa.String(255))
    help_text: Mapped[str] = mapped_column(sa.Text, default="")
    required: Mapped[bool] = mapped_column(default=False)
    options: Mapped[list] = mapped_column(sa.JSON, default=list)
    is_title: Mapped[bool] = mapped_column(default=False)

    flow = relationship("Flow", back_populates="steps")


class AssistantElement(db.Model):
    """A page of a template's assistant; the first one is the start page."""

    __tablename__ = "assistant_elements"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("templates.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(160))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    template = relationship("Template", back_populates="elements")
    buttons = relationship(
        "ActionButton",
        back_populates="element",
        order_by="ActionButton.position",
        cascade="all, delete-orphan",
        foreign_keys="ActionButton.element_id",
    )


class ActionButton(db.Model):
    """A button on an assistant element leading to an element, a flow or a URL."""

    __tablename__ = "action_buttons"

    id: Mapped[int] = mapped_column(primary_key=True)
    element_id: Mapped[int] = mapped_column(sa.ForeignKey("assistant_elements.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(sa.String(120))
    target: Mapped[ButtonTarget] = mapped_column(enum_column(ButtonTarget))
    target_element_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assistant_elements.id", ondelete="SET NULL"))
    target_flow_id: Mapped[int | None] = mapped_column(sa.ForeignKey("flows.id", ondelete="SET NULL"))
    url: Mapped[str | None] = mapped_column(sa.String(500))

    element = relationship("AssistantElement", back_populates="buttons", foreign_keys=[element_id])
    target_element = relationship("AssistantElement", foreign_keys=[target_element_id])
    target_flow = relationship("Flow")
