"""Tenants found by their e-mail address through an index; alerts the watches have sent.

- ``ix_tenants_email_lower`` on ``lower(email)`` replaces the plain index on ``email``: the
  inbox finds the tenant who wrote by ``lower(email)``, whatever case a bulk load stored.
- ``watch_alerts``: one row per alert sent by the SLA and work-order watches (kind, subject,
  deadline), so each run selects only what is due and not yet alerted.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 05:15:00

"""
from alembic import op
import sqlalchemy as sa

import grc.db


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_index('ix_tenants_email')
    op.create_index('ix_tenants_email_lower', 'tenants', [sa.text('lower(email)')], unique=False)
    op.create_table('watch_alerts',
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('subject_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('deadline', grc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', grc.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'subject_id', 'deadline', name=op.f('pk_watch_alerts'))
    )


def downgrade():
    op.drop_table('watch_alerts')
    op.drop_index('ix_tenants_email_lower', table_name='tenants')
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.create_index('ix_tenants_email', ['email'], unique=False)
