"""The schema is built by the Alembic migrations only, and they match the models."""

import json

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


def test_no_index_repeats_the_leading_columns_of_another(app_context):
    """An index on the first columns of a wider one serves nothing the wider one does not, and
    costs its upkeep at every write (a third of writing an import's sessions on SQLite)."""
    inspector = sa.inspect(db.engine)
    redundant = []
    for table in db.metadata.tables:
        indexes = inspector.get_indexes(table) + [
            {"name": u["name"], "column_names": u["column_names"], "unique": True}
            for u in inspector.get_unique_constraints(table)
        ]
        for index in indexes:
            columns = index["column_names"]
            if index["unique"] or None in columns:  # a unique index constrains; an expression index is apart
                continue
            redundant += [
                f"{table}.{index['name']} ⊂ {wider['name']}"
                for wider in indexes
                if len(wider["column_names"]) > len(columns) and wider["column_names"][: len(columns)] == columns
            ]
    assert redundant == []


def test_check_constraints_exist_in_the_database(app_context):
    inspector = sa.inspect(db.engine)
    names = {c["name"] for c in inspector.get_check_constraints("session_dispositif")}
    assert "ck_session_dispositif_nb_places_min" in names


def _published_codes() -> dict[int, tuple]:
    """Each published session's dispositif and public codes and Formacode domains, from the association tables."""
    from models import PublishedFormacode, PublishedSession, published_session_dispositif, published_session_public
    from models.publication import formacode_domains

    sessions = db.session.execute(sa.select(PublishedSession.session_id, PublishedSession.action_id)).all()
    dispositifs, publics, formacodes = {}, {}, {}
    for session_id, code in db.session.execute(sa.select(published_session_dispositif)):
        dispositifs.setdefault(session_id, []).append(str(code))
    for session_id, code in db.session.execute(sa.select(published_session_public)):
        publics.setdefault(session_id, []).append(code)
    for action_id, code in db.session.execute(
        sa.select(PublishedFormacode.action_id, PublishedFormacode.formacode_code)
    ):
        formacodes.setdefault(action_id, []).append(code)
    return {
        session_id: (
            sorted(dispositifs.get(session_id, [])),
            sorted(publics.get(session_id, [])),
            sorted(formacodes.get(action_id, [])),
            formacode_domains(formacodes.get(action_id, [])),
        )
        for session_id, action_id in sessions
    }


def test_the_facet_column_migrations_go_down_and_up_again_with_the_published_offer(app_context, demo):
    """c3d4e5f60718 and d4e5f6071829 drop columns of ``published_session``: their downgrades fill them again."""
    from flask_migrate import downgrade, upgrade

    from sofi import MIGRATIONS_DIR

    expected = _published_codes()
    assert expected and any(codes[0] for codes in expected.values())
    db.session.remove()
    downgrade(directory=str(MIGRATIONS_DIR), revision="b7c1d2e3f405")
    try:
        rows = db.session.execute(sa.text("SELECT session_id, dispositifs, publics, formacodes FROM published_session"))
        restored = {
            session_id: [json.loads(value) if isinstance(value, str) else value for value in values]
            for session_id, *values in rows
        }
        assert restored == {session_id: list(codes[:3]) for session_id, codes in expected.items()}
    finally:
        db.session.remove()  # its read would block the upgrade's ALTER TABLE
        upgrade(directory=str(MIGRATIONS_DIR), revision="heads")
    domains = dict(db.session.execute(sa.text("SELECT session_id, domaines FROM published_session")).all())
    assert {k: json.loads(v) if isinstance(v, str) else v for k, v in domains.items()} == {
        session_id: codes[3] for session_id, codes in expected.items()
    }
