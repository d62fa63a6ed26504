"""Drop the indexes whose columns lead a wider index of the same table

Each of these indexes repeats the first column(s) of another index of its table, which serves
every query it served (equality, range and sort on those columns): it only cost its upkeep
at every insert and update. At the LHÉO import, the two date indexes of the sessions (rows
inserted in random date order) cost a third of writing the sessions on SQLite.

Revision ID: c3d8e2f1a6b4
Revises: b7c1e4a9d2f3
Create Date: 2026-11-24 02:45:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3d8e2f1a6b4'
down_revision = 'b7c1e4a9d2f3'
branch_labels = None
depends_on = None

# (table, index, its columns), each covered by a wider index of the table that starts with them
REDUNDANT = [
    ("action", "ix_action_organisation_id", ["organisation_id"]),  # ix_action_organisation_status
    ("action", "ix_action_status", ["status"]),  # ix_action_status_submitted_at_id
    ("bloc_competences", "ix_bloc_competences_certification_id", ["certification_id"]),  # uq_bloc_code
    ("programme_lot_organisation", "ix_programme_lot_organisation_lot_id", ["lot_id"]),  # uq_programme_lot_organisation
    ("published_session", "ix_published_session_date_debut", ["date_debut"]),  # ix_published_session_dates
    ("session_dispositif", "ix_session_dispositif_session_id", ["session_id"]),  # uq_session_dispositif
    ("session_formation", "ix_session_formation_date_debut", ["date_debut"]),  # ix_session_formation_date_debut_id
    ("session_formation", "ix_session_formation_date_fin", ["date_fin"]),  # ix_session_formation_date_fin_id
]


def upgrade():
    for table, name, _columns in REDUNDANT:
        op.drop_index(name, table_name=table)


def downgrade():
    for table, name, columns in REDUNDANT:
        op.create_index(name, table, columns)
