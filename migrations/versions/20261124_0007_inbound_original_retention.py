"""Inbound e-mail retention: when the received post of a finished e-mail was deleted.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 05:30:00

"""
from alembic import op
import sqlalchemy as sa

import grc.db


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('inbound_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('original_deleted_at', grc.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('inbound_emails', schema=None) as batch_op:
        batch_op.drop_column('original_deleted_at')
