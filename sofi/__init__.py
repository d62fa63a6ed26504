"""SOFI: the training-offer information system. ``create_app`` builds the Flask app."""

import gc
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from sofi import audit  # noqa: F401  (registers the audit listener)
from sofi.config import build_config
from sofi.extensions import babel, csrf, db, login_manager, migrate
from sofi.input_cleaning import init_input_cleaning

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    init_input_cleaning(app)
    app.config.update(build_config(Path(app.instance_path), config))

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=lambda: "fr")
    login_manager.init_app(app)

    from admin_views import init_admin
    from sofi.api import init_api
    from sofi.auth import auth
    from sofi.catalogue import catalogue
    from sofi.cli import sofi_cli
    from sofi.errors import init_error_pages
    from sofi.favicon import favicon
    from sofi.health import health
    from sofi.lheo_api import lheo_api
    from sofi.security_headers import init_security_headers
    from sofi.templating import register_template_helpers

    app.register_blueprint(health)
    app.register_blueprint(favicon)
    app.register_blueprint(auth)
    app.register_blueprint(catalogue)
    app.register_blueprint(lheo_api)
    init_api(app)
    init_admin(app)
    register_template_helpers(app)
    init_error_pages(app)
    init_security_headers(app)
    if app.config.get("SOFI_PROXY_FIX"):
        # Behind a reverse proxy: trust one proxy for the client address and scheme (login throttling, links).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    app.cli.add_command(sofi_cli)
    return app


def create_served_app(config: dict | None = None) -> Flask:
    """The application as a server (or a command) runs it: ``create_app``, then the objects it built
    set aside from the garbage collector (``gc.freeze``).

    Its routes, views, models and compiled templates live as long as the process: without this,
    each full collection walked them all again, a pause of about 60 ms in the middle of a request
    (measured on the cold catalogue search). With gunicorn's ``--preload`` the workers inherit
    them frozen, and their memory pages stay shared after the fork.
    """
    application = create_app(config)
    gc.freeze()
    return application
