"""Outbox messages may be withdrawn before they leave: a question to a tenant whose claim was
resumed meanwhile is cancelled rather than sent stale.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 04:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

STATUSES = ('pending', 'sending', 'sent', 'delivered', 'failed', 'needs_check')


def upgrade():
    _replace_status_check(STATUSES + ('cancelled',))


def downgrade():
    # A withdrawn message never left: the older schema can only call it failed.
    op.execute("UPDATE outbox_messages SET status = 'failed' WHERE status = 'cancelled'")
    _replace_status_check(STATUSES)


def _replace_status_check(values):
    """A portable enum is a VARCHAR and a CHECK: rewrite the CHECK (SQLite rebuilds the table
    in batch mode, PostgreSQL alters it in place). 'needs_check' stays the longest value."""
    allowed = ", ".join(f"'{value}'" for value in values)
    with op.batch_alter_table('outbox_messages', schema=None, recreate="auto") as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_messages_outbox_status"), type_="check")
        batch_op.create_check_constraint("outbox_status", sa.text(f"status IN ({allowed})"))
