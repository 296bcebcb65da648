"""Claims keep their handling time to the response and to the resolution (seconds of their
clock, pauses excluded), measured when each happens, so that the SLA report reads numbers.

Claims responded to or resolved before this revision are measured by the job
``measure_handling`` (hourly in ``rq cron``, or ``flask workers measure-handling`` at once):
the measure needs the residences' calendars, which belong to the application, not to a
migration. The partial index finds them, and stays empty once they are measured.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 16:30:00

"""
import warnings

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

UNMEASURED = (
    "(responded_at IS NOT NULL AND response_seconds IS NULL)"
    " OR (resolved_at IS NOT NULL AND resolution_seconds IS NULL)"
)


def upgrade():
    # Nullable columns: both databases add them without rewriting the table.
    op.add_column('claims', sa.Column('response_seconds', sa.Integer(), nullable=True))
    op.add_column('claims', sa.Column('resolution_seconds', sa.Integer(), nullable=True))
    op.create_index(
        'ix_claims_unmeasured',
        'claims',
        ['id'],
        postgresql_where=sa.text(UNMEASURED),
        sqlite_where=sa.text(UNMEASURED),
    )


def downgrade():
    op.drop_index('ix_claims_unmeasured', table_name='claims')
    with warnings.catch_warnings():
        # SQLite's rebuild reflects the tables claims points to; it cannot reflect the
        # index on lower(email) of tenants, which the rebuild does not touch anyway.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table('claims') as batch:
            batch.drop_column('resolution_seconds')
            batch.drop_column('response_seconds')
