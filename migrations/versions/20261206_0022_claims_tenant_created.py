"""A tenant's claims, newest first, through one index: ``(tenant_id, created_at)`` replaces
the index on ``tenant_id`` alone, which it also serves. The tenant card reads a tenant's
twenty newest claims without sorting all of them.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 10:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_claims_tenant_created', 'claims', ['tenant_id', 'created_at'])
    op.drop_index('ix_claims_tenant_id', table_name='claims')


def downgrade():
    op.create_index('ix_claims_tenant_id', 'claims', ['tenant_id'])
    op.drop_index('ix_claims_tenant_created', table_name='claims')
