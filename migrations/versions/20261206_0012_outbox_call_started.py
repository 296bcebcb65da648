"""Outbox: when the provider call of a message's current attempt started.

A worker killed mid-batch leaves its messages ``sending``; the sweeper sends again (SMS
included) those whose call never started and sets aside for a person only the SMS whose
call had started.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 04:30:00

"""
from alembic import op
import sqlalchemy as sa

import grc.db


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('call_started_at', grc.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('call_started_at')
