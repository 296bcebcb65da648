"""Work tables: one lease representation and one sweeper for the outbox and received e-mail.

Both tables get ``lease_expires_at``, until when the job that claimed a row holds it (the
sweeper takes back a row past it), and received e-mail gets ``handed_at``, as the outbox
has, so that the sweeper hands a row over once per sweep delay.

Existing rows: an outbox message being sent is held for the default lease (120 s) from
when it was taken; a received e-mail that waits for its next attempt is held until then
(whether that wait is a lease or a failure's backoff, the sweeper treats it the same:
due again from that moment, set aside once every attempt was used).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 07:10:00

"""
from datetime import timedelta

from alembic import op
import sqlalchemy as sa

import grc.db


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# The default of GRC_DELIVERY_LEASE_SECONDS when this revision was written.
DELIVERY_LEASE = timedelta(seconds=120)


def upgrade():
    # Plain ADD / DROP COLUMN, which SQLite does itself: batch mode would rebuild the tables
    # and reflect the tenants' expression index, which SQLite cannot.
    op.add_column('outbox_messages', sa.Column('lease_expires_at', grc.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('inbound_emails', sa.Column('lease_expires_at', grc.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('inbound_emails', sa.Column('handed_at', grc.db.UTCDateTime(timezone=True), nullable=True))

    connection = op.get_bind()
    outbox = sa.table(
        'outbox_messages',
        sa.column('id', sa.Integer),
        sa.column('status', sa.String),
        sa.column('locked_at', grc.db.UTCDateTime(timezone=True)),
        sa.column('lease_expires_at', grc.db.UTCDateTime(timezone=True)),
    )
    # Few rows (those in flight): the lease end is computed here, the same on both databases.
    sending = connection.execute(
        sa.select(outbox.c.id, outbox.c.locked_at).where(
            outbox.c.status == 'sending', outbox.c.locked_at.is_not(None)
        )
    ).all()
    for message_id, locked_at in sending:
        connection.execute(
            sa.update(outbox)
            .where(outbox.c.id == message_id)
            .values(lease_expires_at=locked_at + DELIVERY_LEASE)
        )
    inbound = sa.table(
        'inbound_emails',
        sa.column('status', sa.String),
        sa.column('next_attempt_at', grc.db.UTCDateTime(timezone=True)),
        sa.column('lease_expires_at', grc.db.UTCDateTime(timezone=True)),
    )
    connection.execute(
        sa.update(inbound)
        .where(inbound.c.status == 'received', inbound.c.next_attempt_at.is_not(None))
        .values(lease_expires_at=inbound.c.next_attempt_at)
    )


def downgrade():
    # The columns the leases were read from before (locked_at, next_attempt_at) are kept up
    # to date by this revision's code: nothing to copy back.
    op.drop_column('inbound_emails', 'handed_at')
    op.drop_column('inbound_emails', 'lease_expires_at')
    op.drop_column('outbox_messages', 'lease_expires_at')
