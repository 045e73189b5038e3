"""Flask-Migrate loaded on first use: it imports Alembic, Mako and Pygments (about 12 MB per process) at once,
which only `flask db …` and programmatic migrations need, never a request."""
import click


class LazyMigrateConfig:
    """Stands in for Flask-Migrate's per-app config; builds the real one on first attribute access."""

    def __init__(self, db, directory, kwargs):
        self._arguments = (db, directory, kwargs)
        self._real = None

    def __getattr__(self, name):
        """Everything Flask-Migrate and migrations/env.py read comes from the real config."""
        if self._real is None:
            from flask_migrate import Migrate, _MigrateConfig

            db, directory, kwargs = self._arguments
            migrate = Migrate(db=db, directory=directory, **kwargs)
            self._real = _MigrateConfig(migrate, db, **migrate.alembic_ctx_kwargs)
        return getattr(self._real, name)


class LazyDbGroup(click.Group):
    """The `flask db` command group: parsing and running are Flask-Migrate's own group, imported on use."""

    @staticmethod
    def _real():
        """Flask-Migrate's own `db` group."""
        from flask_migrate.cli import db

        return db

    def make_context(self, info_name, args, parent=None, **extra):
        """Flask-Migrate's group parses the options (-d, -x) and runs the subcommand."""
        return self._real().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx):
        """Subcommands of Flask-Migrate's group."""
        return self._real().list_commands(ctx)

    def get_command(self, ctx, cmd_name):
        """One subcommand of Flask-Migrate's group."""
        return self._real().get_command(ctx, cmd_name)


class LazyMigrate:
    """Drop-in for `flask_migrate.Migrate` as this app uses it: `init_app(app, db, directory=…, **options)`."""

    def init_app(self, app, db, directory="migrations", **kwargs):
        """Register the config and the `db` commands without importing Flask-Migrate yet."""
        app.extensions["migrate"] = LazyMigrateConfig(db, str(directory), kwargs)
        app.cli.add_command(LazyDbGroup(name="db", help="Perform database migrations."))
