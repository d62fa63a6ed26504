"""The index of published sessions by action covers what a keyword search reads (PostgreSQL)

A keyword search reads the sessions of the matching actions, thousands for a broad keyword,
through ``ix_published_session_action_id``. On PostgreSQL the index now also holds
(INCLUDE) the columns the facet counts and the date filters read, so that they are read
from the index alone. SQLite has no INCLUDE: its index stays as it was.

Revision ID: b7c1e4a9d2f3
Revises: e5f607182930
Create Date: 2026-11-24 01:25:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7c1e4a9d2f3'
down_revision = 'e5f607182930'
branch_labels = None
depends_on = None

INCLUDED = [
    "session_id", "date_debut", "date_fin", "latitude", "longitude", "departement", "commune_code", "niveau_sortie",
    "modalite_enseignement", "certifiante", "entrees_sorties", "etat_recrutement", "domaines",
]


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_published_session_action_id", table_name="published_session")
    op.create_index(
        "ix_published_session_action_id", "published_session", ["action_id"], postgresql_include=INCLUDED
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_published_session_action_id", table_name="published_session")
    op.create_index("ix_published_session_action_id", "published_session", ["action_id"])
