"""Appointment windows: a claim's visit may be a window ("entre 8h et 12h"), not one time.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 04:20:00

"""
from alembic import op
import sqlalchemy as sa

import grc.db


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('appointment_end', grc.db.UTCDateTime(timezone=True), nullable=True))
        # A window ends after it starts; there is no end without a start.
        batch_op.create_check_constraint(
            'appointment_window', 'appointment_end IS NULL OR (appointment_at IS NOT NULL AND appointment_end > appointment_at)'
        )


def downgrade():
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_claims_appointment_window'), type_='check')
        batch_op.drop_column('appointment_end')
