"""SOFI: the training-offer information system. ``create_app`` builds the Flask app."""

from pathlib import Path

from flask import Flask

from sofi import audit  # noqa: F401  (registers the audit listener)
from sofi.config import build_config
from sofi.extensions import babel, csrf, db, login_manager, migrate

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(build_config(Path(app.instance_path), config))

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=lambda: "fr")
    login_manager.init_app(app)

    from admin_views import init_admin
    from sofi.auth import auth
    from sofi.cli import sofi_cli
    from sofi.health import health
    from sofi.templating import register_template_helpers

    app.register_blueprint(health)
    app.register_blueprint(auth)
    init_admin(app)
    register_template_helpers(app)
    app.cli.add_command(sofi_cli)
    return app
