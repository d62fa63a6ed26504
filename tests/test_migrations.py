"""The schema is built by the Alembic migrations only, and they match the models."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import db
from models.public_search import include_name


def test_upgrade_builds_every_table_of_the_models(app_context):
    tables = set(sa.inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_agree(app_context):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True, "include_name": include_name}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_check_constraints_exist_in_the_database(app_context):
    inspector = sa.inspect(db.engine)
    names = {c["name"] for c in inspector.get_check_constraints("session_dispositif")}
    assert "ck_session_dispositif_nb_places_min" in names
