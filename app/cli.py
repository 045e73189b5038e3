"""Flask commands: create-admin, demo, tickets autoclose, notifications dispatch, api token create, reports
rebuild."""
import click
from flask import current_app
from flask.cli import with_appcontext

from app.enums import Role
from app.extensions import db


def register(app):
    """Attach the commands to the app's CLI."""
    app.cli.add_command(create_admin)
    app.cli.add_command(demo)
    app.cli.add_command(tickets_group)
    app.cli.add_command(notifications_group)
    app.cli.add_command(api_group)
    app.cli.add_command(reports_group)


@click.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", default="Administrator", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def create_admin(email, name, password):
    """Create an administrator account."""
    from app.services.accounts import create_employee
    from app.services.errors import ValidationError

    try:
        employee = create_employee(name, email, role=Role.ADMIN, password=password)
        db.session.commit()
    except ValidationError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    click.echo(f"Administrator {employee.email} created.")


@click.command("demo")
@click.option("--tickets", default=0, type=int, help="Also create this many realistic bulk tickets.")
@with_appcontext
def demo(tickets):
    """Load the demo data (idempotent), optionally plus bulk tickets for benchmarks."""
    from app import demo_data

    current_app.config["SOCKETIO_DISABLED"] = True
    demo_data.load_demo()
    click.echo("Demo data is in place.")
    if tickets:
        import time

        started = time.perf_counter()
        made = demo_data.load_bulk_tickets(tickets, progress=lambda line: click.echo(line, err=True))
        size = demo_data.database_bytes()
        click.echo(
            f"Created {made} bulk tickets in {time.perf_counter() - started:.1f} s; "
            f"the database takes {size / 1e6:,.0f} MB."
        )


@click.group("reports")
def reports_group():
    """Report data."""


@reports_group.command("rebuild")
@click.option("--if-empty", is_flag=True, help="Only when tickets exist but no report data does (after upgrading).")
@with_appcontext
def reports_rebuild(if_empty):
    """Recompute the report data from all tickets (after bulk imports or a change of the organisation's zone)."""
    import time

    from app.services import reports

    if if_empty and not reports.needs_rebuild():
        return
    started = time.perf_counter()
    counted = reports.rebuild()
    click.echo(f"Report data rebuilt from {counted} tickets in {time.perf_counter() - started:.1f} s.")


@click.group("tickets")
def tickets_group():
    """Ticket maintenance."""


@tickets_group.command("autoclose")
@click.option("--days", type=int, default=None, help="Override the organisation's setting.")
@with_appcontext
def autoclose(days):
    """Close DONE tickets that nobody rated in time."""
    from app.models import Organisation
    from app.services.tickets import autoclose_done_tickets

    days = days if days is not None else Organisation.current().autoclose_days
    closed = autoclose_done_tickets(days)
    click.echo(f"Closed {closed} tickets.")


@tickets_group.command("sla-check")
@with_appcontext
def sla_check():
    """Notify service-level targets that are 80 % used or missed (each once; the dispatcher also does this)."""
    from app.services import service_levels

    click.echo(f"Recorded {service_levels.send_alerts()} service-level notifications.")


@click.group("notifications")
def notifications_group():
    """Notification outbox."""


@notifications_group.command("dispatch")
@click.option("--once", is_flag=True, help="Send what is due now and exit.")
@click.option("--interval", type=float, default=None, help="Seconds between looks at the outbox.")
@with_appcontext
def notifications_dispatch(once, interval):
    """Send pending e-mail and web-push deliveries with retries (run as its own process)."""
    from app.services import dispatcher

    if once:
        from app.services import service_levels

        service_levels.send_alerts()
        click.echo(f"Processed {dispatcher.dispatch_due()} deliveries.")
        return
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    click.echo("Dispatching notifications; stop with Ctrl-C or SIGTERM.")
    try:
        dispatcher.run_forever(current_app._get_current_object(), interval, stop)
    except KeyboardInterrupt:
        pass
    click.echo("Stopped.")


@click.group("api")
def api_group():
    """The REST API at /api/v1."""


@api_group.group("token")
def api_token_group():
    """Personal API tokens."""


@api_token_group.command("create")
@click.argument("email")
@click.option("--scope", "scopes", default="read", show_default=True, help="Comma-separated: read, write, admin.")
@click.option("--name", default="CLI", show_default=True, help="A name to recognise the token by.")
@click.option("--days", type=int, default=None, help="Expire after this many days (default: never).")
@with_appcontext
def api_token_create(email, scopes, name, days):
    """Make a token for the employee with EMAIL and print it: the bearer token is the last line of output."""
    import sqlalchemy as sa

    from app.models import Employee
    from app.services import api_tokens
    from app.services.errors import ServiceError

    employee = db.session.scalar(sa.select(Employee).where(sa.func.lower(Employee.email) == email.strip().lower()))
    if employee is None or not employee.active:
        raise click.ClickException(f"No active employee has the e-mail address {email}.")
    try:
        made = api_tokens.create_token(employee, name=name, scopes=scopes, expires_in_days=days, actor=employee)
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    expiry = made.row.expires_at.isoformat() if made.row.expires_at else "never"
    click.echo(f"Token {made.row.name!r} for {employee.email}, scopes {made.row.scopes}, expires {expiry}.")
    click.echo("Keep it secret; it is shown only this once:")
    click.echo(made.secret)
