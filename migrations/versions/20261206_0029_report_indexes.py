"""Indexes for the managers' reports, which read one period of calls, further calls on
claims and survey answers: each by the moment it happened, whatever else it is.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 14:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_calls_received_at', 'calls', ['received_at'])
    op.create_index('ix_claim_callers_called_at', 'claim_callers', ['called_at'])
    op.create_index('ix_surveys_answered_at', 'surveys', ['answered_at'])


def downgrade():
    op.drop_index('ix_surveys_answered_at', table_name='surveys')
    op.drop_index('ix_claim_callers_called_at', table_name='claim_callers')
    op.drop_index('ix_calls_received_at', table_name='calls')
