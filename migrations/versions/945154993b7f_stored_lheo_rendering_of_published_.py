"""stored LHÉO rendering of published actions

``published_action.lheo`` holds the LHÉO 2.3 rendering of the snapshot (``exporters.lheo.fragment``)
and ``lheo_version`` the version of the renderer that wrote it; the export streams them. Existing
rows are left empty (the export renders them from their snapshot, as before):
``flask sofi lheo-fragments`` fills them, in batches, without stopping the application.

Revision ID: 945154993b7f
Revises: a4ab3f163ef0
Create Date: 2026-11-23 09:58:21.386171

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "945154993b7f"
down_revision = "a4ab3f163ef0"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE, not a batch copy: on SQLite, dropping the old copy of published_action would
    # delete its sessions and Formacodes through their ON DELETE CASCADE.
    op.add_column("published_action", sa.Column("lheo", sa.Text(), nullable=True))
    op.add_column("published_action", sa.Column("lheo_version", sa.Integer(), nullable=True))


def downgrade():
    # Plain ALTER TABLE (SQLite ≥ 3.35 has DROP COLUMN), for the same reason as above.
    for name in ("lheo_version", "lheo"):
        op.execute(f"ALTER TABLE published_action DROP COLUMN {name}")
