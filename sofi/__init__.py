"""SOFI: the training-offer information system. ``create_app`` builds the Flask app."""

from pathlib import Path

from flask import Flask

from sofi.config import build_config
from sofi.extensions import csrf, db, migrate

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(build_config(Path(app.instance_path), config))

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    csrf.init_app(app)

    from sofi.cli import sofi_cli
    from sofi.health import health

    app.register_blueprint(health)
    app.cli.add_command(sofi_cli)
    return app
