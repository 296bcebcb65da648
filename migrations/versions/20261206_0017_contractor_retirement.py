"""Contractors are retired, never deleted: claims and work orders refer to them.

- ``contractors.retired_on``: the day from which a contractor is no longer offered for a
  new contract (its contracts end on the day before).

A plain ``ADD COLUMN`` (no table rebuild on SQLite): the catalogue triggers of migration 0006
on ``contractors`` stay in place.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 07:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('contractors', sa.Column('retired_on', sa.Date(), nullable=True))


def downgrade():
    # Not in batch mode: rebuilding the table on SQLite would drop its catalogue triggers
    # (SQLite drops a column in place since 3.35).
    op.drop_column('contractors', 'retired_on')
