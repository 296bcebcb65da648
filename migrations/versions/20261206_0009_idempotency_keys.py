"""Repeats recognised by the database: the key each inbound e-mail holds, and inbound SMS
kept once per Twilio MessageSid.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 04:15:00

"""
import hashlib

from alembic import op
import sqlalchemy as sa

import grc.db


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# E-mails that already hold their Message-ID: the first processed copy of each (as the
# read-then-write check of the previous version recognised them).
PROCESSED = ('applied', 'filed', 'review', 'held', 'triage', 'intake')


def upgrade():
    op.create_table('inbound_email_keys',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('email_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['email_id'], ['inbound_emails.id'], name=op.f('fk_inbound_email_keys_email_id_inbound_emails'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_inbound_email_keys')),
    sa.UniqueConstraint('email_id', name=op.f('uq_inbound_email_keys_email_id'))
    )
    op.create_table('inbound_sms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_sid', sa.String(length=64), nullable=False),
    sa.Column('received_at', grc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('from_number', sa.String(length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Enum('opted_out', 'opted_in', 'filed', 'unknown_sender', 'no_open_claim', name='inbound_sms_outcome', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_inbound_sms_claim_id_claims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_sms')),
    sa.UniqueConstraint('message_sid', name=op.f('uq_inbound_sms_message_sid'))
    )
    with op.batch_alter_table('inbound_sms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_sms_claim_id'), ['claim_id'], unique=False)

    # E-mails processed before this revision keep their Message-ID, so that a late copy is
    # still a duplicate. The key is grc.inbound.processing.repeat_key's, frozen here.
    emails = sa.table('inbound_emails', sa.column('id'), sa.column('message_id'), sa.column('status'))
    keys = sa.table('inbound_email_keys', sa.column('key'), sa.column('email_id'))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(emails.c.id, emails.c.message_id)
        .where(emails.c.message_id.is_not(None), emails.c.status.in_(PROCESSED))
        .order_by(emails.c.id)
    )
    held = {}
    for email_id, message_id in rows:
        key = hashlib.sha256(f'message-id:{message_id}'.encode()).hexdigest()
        held.setdefault(key, email_id)
    if held:
        bind.execute(keys.insert(), [{'key': k, 'email_id': i} for k, i in held.items()])


def downgrade():
    with op.batch_alter_table('inbound_sms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_sms_claim_id'))

    op.drop_table('inbound_sms')
    op.drop_table('inbound_email_keys')
