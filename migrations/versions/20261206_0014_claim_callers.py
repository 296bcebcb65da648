"""Further calls about a claim's problem, and the index the call centre's check for a known
breakdown reads.

- ``claim_callers``: one row per further call about a claim (who called, how, when, noted by
  whom), recorded instead of a duplicate claim; those callers are told of the resolution.
- ``claim_events.kind`` may be 'caller': the call on the claim's timeline.
- ``ix_claims_building_category`` (building, category, created_at) replaces the index on
  ``building_id`` alone, which is its prefix: the open claims of one category in a building,
  newest first, are read from it without visiting the building's other claims.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 07:00:00

"""
import warnings

from alembic import op
import sqlalchemy as sa

import grc.db


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

EVENT_KINDS = ('created', 'routed', 'status_changed', 'comment', 'appointment', 'message',
               'work_order', 'contractor_reply')
CHANNELS = ('phone', 'web', 'app', 'email', 'letter', 'desk')


def upgrade():
    op.create_table('claim_callers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum(*CHANNELS, name='claim_caller_channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('called_at', grc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_claim_callers_claim_id_claims')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_claim_callers_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_claim_callers_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_callers'))
    )
    with op.batch_alter_table('claim_callers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_callers_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_callers_tenant_id'), ['tenant_id'], unique=False)

    _replace_event_kinds(EVENT_KINDS + ('caller',))

    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index('ix_claims_building_category', ['building_id', 'category_id', 'created_at'], unique=False)
        batch_op.drop_index(batch_op.f('ix_claims_building_id'))


def downgrade():
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claims_building_id'), ['building_id'], unique=False)
        batch_op.drop_index('ix_claims_building_category')

    # The older schema has no kind for a further call: its timeline lines stay, as comments.
    op.execute("UPDATE claim_events SET kind = 'comment' WHERE kind = 'caller'")
    _replace_event_kinds(EVENT_KINDS)

    with op.batch_alter_table('claim_callers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_callers_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_claim_callers_claim_id'))
    op.drop_table('claim_callers')


def _replace_event_kinds(values):
    """A portable enum is a VARCHAR and a CHECK: rewrite the CHECK (SQLite rebuilds the table
    in batch mode, PostgreSQL alters it in place). 'contractor_reply' stays the longest value."""
    allowed = ", ".join(f"'{value}'" for value in values)
    with warnings.catch_warnings():
        # SQLite's rebuild reflects the tables claim_events points to; it cannot reflect the
        # index on lower(email) of tenants, which the rebuild does not touch anyway.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table('claim_events', schema=None, recreate="auto") as batch_op:
            batch_op.drop_constraint(op.f("ck_claim_events_claim_event_kind"), type_="check")
            batch_op.create_check_constraint("claim_event_kind", sa.text(f"kind IN ({allowed})"))
