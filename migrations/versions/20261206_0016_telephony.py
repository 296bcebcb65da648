"""Incoming calls to the call centre: one row per Twilio CallSid, its status kept in agreement
with its times by CHECK constraints, and the claims each call led to.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 06:54:23

"""
from alembic import op
import sqlalchemy as sa

import grc.db


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_sid', sa.String(length=64), nullable=False),
    sa.Column('caller_number', sa.String(length=20), nullable=True),
    sa.Column('called_number', sa.String(length=32), nullable=False),
    sa.Column('received_at', grc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'in_progress', 'answered', 'abandoned', name='call_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('taken_at', grc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('taken_by_id', sa.Integer(), nullable=True),
    sa.Column('ended_at', grc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('queue_result', sa.String(length=32), nullable=True),
    sa.Column('provider_status', sa.String(length=20), nullable=True),
    sa.Column('wait_seconds', sa.Integer(), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.CheckConstraint("(status IN ('answered', 'abandoned') AND ended_at IS NOT NULL) OR (status IN ('waiting', 'in_progress') AND ended_at IS NULL)", name=op.f('ck_calls_ended_iff_over')),
    sa.CheckConstraint("status != 'in_progress' OR taken_at IS NOT NULL", name=op.f('ck_calls_in_progress_is_taken')),
    sa.CheckConstraint("status != 'waiting' OR taken_at IS NULL", name=op.f('ck_calls_waiting_not_taken')),
    sa.CheckConstraint('(taken_at IS NULL OR taken_at >= received_at) AND (ended_at IS NULL OR ended_at >= received_at)', name=op.f('ck_calls_times_ordered')),
    sa.CheckConstraint('(taken_at IS NULL) = (taken_by_id IS NULL)', name=op.f('ck_calls_taken_by_whom')),
    sa.CheckConstraint('(wait_seconds IS NULL OR wait_seconds >= 0) AND (duration_seconds IS NULL OR duration_seconds >= 0)', name=op.f('ck_calls_durations_positive')),
    sa.ForeignKeyConstraint(['taken_by_id'], ['users.id'], name=op.f('fk_calls_taken_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calls')),
    sa.UniqueConstraint('call_sid', name=op.f('uq_calls_call_sid'))
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calls_caller_number'), ['caller_number'], unique=False)
        batch_op.create_index('ix_calls_live', ['status', 'received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_taken_by_id'), ['taken_by_id'], unique=False)

    op.create_table('call_claims',
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('linked_at', grc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('linked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_call_claims_call_id_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_call_claims_claim_id_claims')),
    sa.ForeignKeyConstraint(['linked_by_id'], ['users.id'], name=op.f('fk_call_claims_linked_by_id_users')),
    sa.PrimaryKeyConstraint('call_id', 'claim_id', name=op.f('pk_call_claims'))
    )
    with op.batch_alter_table('call_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_claims_claim_id'), ['claim_id'], unique=False)



def downgrade():
    with op.batch_alter_table('call_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_claims_claim_id'))

    op.drop_table('call_claims')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calls_taken_by_id'))
        batch_op.drop_index('ix_calls_live')
        batch_op.drop_index(batch_op.f('ix_calls_caller_number'))

    op.drop_table('calls')
