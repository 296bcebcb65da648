"""The person of the treatment unit who follows a claim (assigned on the claim page or
through the API's assign action with ``assignee_id``).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 07:45:00

"""
import warnings
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


@contextmanager
def _claims_batch():
    with warnings.catch_warnings():
        # SQLite's rebuild reflects the tables claims points to; it cannot reflect the
        # index on lower(email) of tenants, which the rebuild does not touch anyway.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table('claims', schema=None) as batch_op:
            yield batch_op


def upgrade():
    with _claims_batch() as batch_op:
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_claims_assignee_id_users'), 'users', ['assignee_id'], ['id']
        )


def downgrade():
    with _claims_batch() as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_claims_assignee_id_users'), type_='foreignkey')
        batch_op.drop_column('assignee_id')
