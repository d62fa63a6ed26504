"""performance indexes: validation queue, session list sorts, published sessions

Revision ID: f63c782129b2
Revises: 8234c2e8016f
Create Date: 2026-11-23 06:57:49.974986

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "f63c782129b2"
down_revision = "8234c2e8016f"
branch_labels = None
depends_on = None


def upgrade():
    # Indexes for the sorts and filters of the large lists (see the "Scale and speed" issue).
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.create_index("ix_action_status_submitted_at_id", ["status", "submitted_at", "id"], unique=False)

    with op.batch_alter_table("published_session", schema=None) as batch_op:
        batch_op.create_index("ix_published_session_date_debut_id", ["date_debut", "session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_published_session_updated_at"), ["updated_at"], unique=False)

    with op.batch_alter_table("session_formation", schema=None) as batch_op:
        batch_op.create_index("ix_session_formation_date_debut_id", ["date_debut", "id"], unique=False)
        batch_op.create_index("ix_session_formation_date_fin_id", ["date_fin", "id"], unique=False)


def downgrade():
    # Indexes for the sorts and filters of the large lists (see the "Scale and speed" issue).
    with op.batch_alter_table("session_formation", schema=None) as batch_op:
        batch_op.drop_index("ix_session_formation_date_fin_id")
        batch_op.drop_index("ix_session_formation_date_debut_id")

    with op.batch_alter_table("published_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_published_session_updated_at"))
        batch_op.drop_index("ix_published_session_date_debut_id")

    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_index("ix_action_status_submitted_at_id")
