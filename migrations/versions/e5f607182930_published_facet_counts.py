"""published facet counts: the catalogue's counts of the whole published offer, kept

``published_facet_count`` holds the number of published sessions of each value of each facet
of the public search, ``facet_count_state`` the day they count from
(``sofi.search_public.kept_counts``). Both start empty: the search counts the sessions itself
until the counts are built (``flask sofi diffuse``, ``flask sofi generate``, the demo).

Revision ID: e5f607182930
Revises: d4e5f6071829
Create Date: 2026-11-23 19:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e5f607182930"
down_revision = "d4e5f6071829"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "published_facet_count",
        sa.Column("facet", sa.String(length=30), nullable=False),
        sa.Column("value", sa.String(length=30), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("facet", "value", name=op.f("pk_published_facet_count")),
    )
    op.create_table(
        "facet_count_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("counted_from", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facet_count_state")),
    )


def downgrade():
    op.drop_table("facet_count_state")
    op.drop_table("published_facet_count")
