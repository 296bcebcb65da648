"""Part of a phone number finds its tenant: a trigram index on the tenants' numbers
(PostgreSQL only; SQLite reads its few numbers without it).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 07:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_tenant_phones_number_trgm ON tenant_phones "
            "USING gin (number gin_trgm_ops)"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_tenant_phones_number_trgm")
