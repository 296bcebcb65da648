"""Staff accounts in the web application: a session key per user (drawn anew at sign-out
and at a password change, ending every session), invitations to choose a password, and the
outbox purpose of the invitation e-mail.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 06:55:04.997083

"""
import warnings

from alembic import op
import sqlalchemy as sa

import grc.db


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', grc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('expires_at', grc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', grc.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('used_at IS NULL OR used_at >= created_at', name=op.f('ck_user_invitations_used_after_created')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_user_invitations_created_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_invitations_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_invitations_token_hash'))
    )
    with op.batch_alter_table('user_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_invitations_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_key', sa.String(length=64), nullable=True))
    _replace_purpose_check(PURPOSES + ('invitation',))



def downgrade():
    op.execute("DELETE FROM outbox_messages WHERE purpose = 'invitation'")
    _replace_purpose_check(PURPOSES)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_key')

    with op.batch_alter_table('user_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_invitations_user_id'))

    op.drop_table('user_invitations')


PURPOSES = ('acknowledgement', 'scheduled', 'resolved', 'question', 'sla_warning', 'sla_breach',
            'on_call_alert', 'work_order', 'work_order_reminder', 'work_order_escalation')


def _replace_purpose_check(values):
    """A portable enum is a VARCHAR and a CHECK: rewrite the CHECK (SQLite rebuilds the table
    in batch mode, PostgreSQL alters it in place); the column is wide enough already."""
    allowed = ", ".join(f"'{value}'" for value in values)
    with warnings.catch_warnings():
        # SQLite's rebuild reflects the tables the outbox refers to, tenants among them,
        # whose index on lower(email) it cannot reflect (and need not: it is not rebuilt).
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table('outbox_messages', schema=None, recreate="auto") as batch_op:
            batch_op.drop_constraint(op.f("ck_outbox_messages_outbox_purpose"), type_="check")
            batch_op.create_check_constraint("outbox_purpose", sa.text(f"purpose IN ({allowed})"))
