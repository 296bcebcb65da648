"""Outbox and tenant notifications: delivery records, opt-outs, on-call numbers, appointments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:55:27.940451

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.Enum('email', 'sms', name='outbox_channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('purpose', sa.Enum('acknowledgement', 'scheduled', 'resolved', 'question', 'sla_warning', 'sla_breach', 'on_call_alert', name='outbox_purpose', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'delivered', 'failed', 'needs_check', name='outbox_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('handed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('provider', sa.String(length=20), nullable=True),
    sa.Column('provider_id', sa.String(length=100), nullable=True),
    sa.Column('provider_status', sa.String(length=30), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status NOT IN ('sent', 'delivered') OR provider_id IS NOT NULL", name=op.f('ck_outbox_messages_sent_has_id')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_messages_attempts')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_outbox_messages_claim_id_claims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_messages_idempotency_key'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index('ix_outbox_messages_provider_id', ['provider', 'provider_id'], unique=False)
        batch_op.create_index('ix_outbox_messages_status_available_at', ['status', 'available_at'], unique=False)

    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_call_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('on_call_phone', sa.String(length=20), nullable=True))

    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('appointment_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=5), nullable=False, server_default='fr'))
        batch_op.add_column(sa.Column('sms_opt_out', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('email_opt_out', sa.Boolean(), nullable=False, server_default=sa.false()))

    # Timeline events now also record appointments and messages.
    with op.batch_alter_table('claim_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_claim_events_claim_event_kind'), type_='check')
        batch_op.create_check_constraint('claim_event_kind', sa.text(
            "kind IN ('created', 'routed', 'status_changed', 'comment', 'appointment', 'message')"))



def downgrade():
    op.execute("DELETE FROM outbox_messages")
    with op.batch_alter_table('claim_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_claim_events_claim_event_kind'), type_='check')
        batch_op.create_check_constraint('claim_event_kind', sa.text(
            "kind IN ('created', 'routed', 'status_changed', 'comment')"))

    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('email_opt_out')
        batch_op.drop_column('sms_opt_out')
        batch_op.drop_column('locale')

    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_column('appointment_at')

    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('on_call_phone')
        batch_op.drop_column('on_call_name')

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_status_available_at')
        batch_op.drop_index('ix_outbox_messages_provider_id')
        batch_op.drop_index(batch_op.f('ix_outbox_messages_claim_id'))

    op.drop_table('outbox_messages')
