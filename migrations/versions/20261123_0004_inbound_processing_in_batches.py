"""Inbound e-mail processed in batches: when a stored e-mail's next attempt may start, and an
index on its status for the jobs that look for e-mails to process. Tenants' e-mail addresses
are stored lower case (found by a sender's address with the column's index).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 21:45:00

"""
from alembic import op
import sqlalchemy as sa

import grc.db


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('inbound_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', grc.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_inbound_emails_status'), ['status'], unique=False)
    op.execute("UPDATE tenants SET email = lower(email) WHERE email <> lower(email)")


def downgrade():
    with op.batch_alter_table('inbound_emails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_emails_status'))
        batch_op.drop_column('next_attempt_at')
