"""A piece of equipment's claims in time order, through one index: ``(equipment_id,
created_at)`` replaces the index on ``equipment_id`` alone, which it also serves. The CUS
indicators read a year's claims on the lifts without touching the other claims (on
PostgreSQL from the index alone: it carries the resolution time, status and id), and the
call centre's check for a known breakdown still finds a lift's open claims.

On PostgreSQL the index of claims by creation time carries the agency, status and response
times, so that a year's response counts are read from the index alone too.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 13:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_claims_equipment_created',
        'claims',
        ['equipment_id', 'created_at'],
        postgresql_include=['resolved_at', 'status', 'id'],
    )
    op.drop_index('ix_claims_equipment_id', table_name='claims')
    op.drop_index('ix_claims_created_at', table_name='claims')
    op.create_index(
        'ix_claims_created_at',
        'claims',
        ['created_at'],
        postgresql_include=['agency_id', 'status', 'responded_at', 'response_due'],
    )


def downgrade():
    op.drop_index('ix_claims_created_at', table_name='claims')
    op.create_index('ix_claims_created_at', 'claims', ['created_at'])
    op.create_index('ix_claims_equipment_id', 'claims', ['equipment_id'])
    op.drop_index('ix_claims_equipment_created', table_name='claims')
