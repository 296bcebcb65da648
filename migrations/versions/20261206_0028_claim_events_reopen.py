"""The reopenings of claims, through an index of their own: supplier ratings find the
reopenings that followed a contractor's work among a quarter's orders without reading each
claim's timeline (a few reopenings in a hundred events).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 13:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_claim_events_reopen',
        'claim_events',
        ['claim_id', 'created_at'],
        postgresql_where=sa.text("action = 'reopen'"),
        sqlite_where=sa.text("action = 'reopen'"),
    )


def downgrade():
    op.drop_index('ix_claim_events_reopen', table_name='claim_events')
