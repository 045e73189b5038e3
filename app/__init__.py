"""Ticketwerk application factory."""
import os
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

from app import config as default_config
from app.extensions import (
    babel,
    compress,
    csrf,
    db,
    limiter,
    login_manager,
    migrate,
    socketio,
)
from app.routing import TicketwerkFlask

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")
# SQLite's page cache per connection, in KiB. Its default, 2 MiB, made 15 MiB of a gunicorn worker's memory once
# eight threads had each held a connection (VmRSS after 400 page requests); pages beyond it come from the
# operating system's file cache, which all processes share.
SQLITE_CACHE_KIB = 512
# Prepared statements each SQLite connection keeps (Python's sqlite3 keeps 128). A page runs 10 to 20 statements;
# with four connections after the process benchmark's load, SQLite held 5.4 MiB with 128 and 3.5 MiB with 32, and
# the 600 requests took as long (15.2 / 16.8 s against 15.2 / 14.2 s, interleaved).
SQLITE_CACHED_STATEMENTS = 32


def create_app(test_config=None):
    """Build the app: config, extensions, blueprints, sockets, CLI."""
    app = TicketwerkFlask(__name__, instance_relative_config=True)
    from app.ids import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route: ids beyond the database's range are a 404
    _load_config(app, test_config)
    _refuse_development_secret(app)
    _init_extensions(app)
    _trust_proxies(app)
    from app import sqlite_statistics

    sqlite_statistics.refresh(app)
    _register_blueprints(app)
    _register_hooks(app)
    from app.blueprints import api

    api.init_app(app)  # after the error handlers: it wraps them so API requests get problem details
    from app import request_limits

    request_limits.register(app)
    from app import cli, realtime
    from app.blueprints.messenger import events as messenger_events

    cli.register(app)
    realtime.register(app)
    messenger_events.register()
    from app.services import dispatcher

    dispatcher.start_in_process(app)
    return app


def _load_config(app, test_config):
    """Defaults → instance/config.py → FLASK_* environment → test mapping."""
    app.config.from_object(default_config)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env()
    if test_config:
        app.config.from_mapping(test_config)
    app.config.setdefault("UPLOAD_FOLDER", None)
    if not app.config["UPLOAD_FOLDER"]:
        app.config["UPLOAD_FOLDER"] = os.path.join(app.instance_path, "uploads")
    os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)
    _share_rate_limits_with_the_message_queue(app.config)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql://"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri.removeprefix("postgresql://")
    # A copy: the default dict is shared by every app of the process. Settings of the installation's own win.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "query_cache_size": app.config["SQLALCHEMY_QUERY_CACHE_SIZE"],
        **({"connect_args": {"cached_statements": SQLITE_CACHED_STATEMENTS}} if uri.startswith("sqlite") else {}),
        **pool_options(app.config),
        **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
    }


def pool_options(config):
    """The connection pool of a file or server database: DATABASE_POOL_SIZE connections and no more; a request
    that finds them all busy waits up to DATABASE_POOL_TIMEOUT_SECONDS, then gets 503 (refusals.answer_busy).

    Returns {"pool_size", "max_overflow": 0, "pool_timeout"}, or {} for an in-memory SQLite database (one shared
    connection, no pool to size). SQLAlchemy's default lets up to 15 connections open at once: each SQLite one
    holds its page cache, prepared statements and schema (about 1.5 MiB), so 8 busy threads left the worker 10 MiB
    larger, for no gain, since two cores serve no more than a few queries at once (docs/deployment.md §7)."""
    uri = config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite") and (":memory:" in uri or uri.rstrip("/") == "sqlite:" or "mode=memory" in uri):
        return {}
    return {
        "pool_size": int(config["DATABASE_POOL_SIZE"]),
        "max_overflow": 0,
        "pool_timeout": float(config["DATABASE_POOL_TIMEOUT_SECONDS"]),
    }


def _share_rate_limits_with_the_message_queue(config):
    """Several processes sharing a Redis message queue share their rate-limit counters there too, unless
    RATELIMIT_STORAGE_URI names a store of its own: per-process counters would multiply every budget."""
    queue = config.get("SOCKETIO_MESSAGE_QUEUE") or ""
    if config.get("RATELIMIT_STORAGE_URI", "memory://") == "memory://" and queue.startswith(("redis://", "rediss://")):
        config["RATELIMIT_STORAGE_URI"] = queue


def _refuse_development_secret(app):
    """A production start with the published development key would let anyone forge sessions."""
    if app.config["SECRET_KEY"] == default_config.DEV_SECRET_KEY and not (app.debug or app.testing):
        raise RuntimeError(
            "SECRET_KEY is the development default. Run `make run` once (it writes a random key to "
            "instance/config.py) or set FLASK_SECRET_KEY."
        )


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL, a busy timeout, enforced foreign keys and a bounded page cache for every SQLite connection."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()


def _init_extensions(app):
    """Bind the unbound extensions to this app."""
    from app import identity, locale, realtime, socket_guard, time_zones
    from app.services import attempts

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    identity.init_login_manager(login_manager)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=locale.select_locale, timezone_selector=time_zones.select_timezone)
    limiter.init_app(app)
    attempts.init_app(app)
    compress.init_app(app)
    socket_guard.init_app(app)
    queue = app.config.get("SOCKETIO_MESSAGE_QUEUE")
    socketio.init_app(
        app,
        message_queue=queue,
        # Always passed (None without a queue): the extension object outlives one app and would keep the last one.
        client_manager=realtime.client_manager(queue, app.config["SOCKETIO_CHANNEL"]),
        async_mode="threading",
        # A socket's events run one after another in the thread that reads them, not in a new thread each: a
        # client flooding events then holds one connection of the bounded pool, not all of them (pool_options).
        async_handlers=False,
        cors_allowed_origins=socket_guard.origin_check(app),
        manage_session=False,
    )


def _trust_proxies(app):
    """Behind TRUSTED_PROXIES proxies, take the client's address, scheme and host from their X-Forwarded-* headers.

    Werkzeug's ProxyFix reads the last `n` values each proxy appended, so a header the client forged itself is
    never used. It wraps the Socket.IO middleware too, so sockets see the same address as pages.
    """
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops < 0:
        raise RuntimeError("TRUSTED_PROXIES must be 0 or the number of proxies in front of the app.")
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _register_blueprints(app):
    """One blueprint per user-facing area."""
    from app.blueprints.admin.routes import account_bp
    from app.blueprints.admin.routes import bp as admin_bp
    from app.blueprints.auth.routes import bp as auth_bp
    from app.blueprints.files.routes import bp as files_bp
    from app.blueprints.health.routes import bp as health_bp
    from app.blueprints.home.routes import bp as home_bp
    from app.blueprints.messenger.routes import bp as messenger_bp
    from app.blueprints.notifications.routes import bp as notifications_bp
    from app.blueprints.public.routes import bp as public_bp
    from app.blueprints.reports.routes import bp as reports_bp
    from app.blueprints.tickets.routes import bp as tickets_bp

    for blueprint in (health_bp, auth_bp, home_bp, public_bp, files_bp, messenger_bp, tickets_bp, admin_bp, account_bp, notifications_bp, reports_bp):
        app.register_blueprint(blueprint)


def _register_hooks(app):
    """Request hooks (identity, security headers, Vary), template helpers, refusals and error pages."""
    from app import formatting, identity, refusals, security, static_files
    from app.htmx import add_vary

    app.before_request(security.forget_previous_request)
    app.session_interface = static_files.SessionInterface()
    app.view_functions["static"] = static_files.serve
    app.before_request(identity.expire_idle_login)
    app.before_request(identity.send_to_two_factor_setup)
    app.url_defaults(static_files.add_version)
    app.after_request(static_files.cache_static)
    app.after_request(security.security_headers)
    app.after_request(add_vary)
    app.after_request(identity.set_code_user_cookie)
    formatting.register(app)
    refusals.register(app)
