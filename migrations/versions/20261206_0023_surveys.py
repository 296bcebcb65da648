"""Hot satisfaction surveys: one per resolution of a claim (unique claim and resolution
number), every answer kept; the outbox's purposes of the survey messages and the inbound SMS
outcome of an answer.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 10:44:13

"""
import warnings

from alembic import op
import sqlalchemy as sa

import grc.db


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('resolution_number', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('contractor_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.Enum('email', 'sms', name='survey_channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('status', sa.Enum('planned', 'sent', 'reminded', 'answered', 'expired', 'cancelled', name='survey_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('planned_for', grc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', grc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', grc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', grc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', grc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', grc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('not_done', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('clarification_sent_at', grc.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('needs_person', sa.Boolean(), nullable=False),
    sa.Column('created_at', grc.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(status = 'answered') = (answered_at IS NOT NULL)", name=op.f('ck_surveys_answered_at')),
    sa.CheckConstraint("status IN ('planned', 'cancelled') OR sent_at IS NOT NULL", name=op.f('ck_surveys_sent_at')),
    sa.CheckConstraint('NOT not_done OR score IS NULL', name=op.f('ck_surveys_not_done_no_score')),
    sa.CheckConstraint('score IS NULL OR (score BETWEEN 1 AND 5)', name=op.f('ck_surveys_score')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_surveys_claim_id_claims')),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractors.id'], name=op.f('fk_surveys_contractor_id_contractors')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_surveys_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys')),
    sa.UniqueConstraint('claim_id', 'resolution_number', name=op.f('uq_surveys_claim_id'))
    )
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_surveys_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_surveys_contractor_id'), ['contractor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_surveys_group_id'), ['group_id'], unique=False)
        batch_op.create_index('ix_surveys_recipient_status', ['recipient', 'status'], unique=False)
        batch_op.create_index('ix_surveys_status_planned_for', ['status', 'planned_for'], unique=False)
        batch_op.create_index('ix_surveys_tenant_status', ['tenant_id', 'status'], unique=False)

    op.create_table('survey_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('reading', sa.String(length=20), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('source', sa.Enum('sms', 'email', name='answer_source', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.Column('inbound_sms_id', sa.Integer(), nullable=True),
    sa.Column('received_at', grc.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['inbound_sms_id'], ['inbound_sms.id'], name=op.f('fk_survey_answers_inbound_sms_id_inbound_sms')),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_answers_survey_id_surveys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answers'))
    )
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_answers_survey_id'), ['survey_id'], unique=False)

    _replace_check('outbox_messages', 'purpose', 'outbox_purpose', PURPOSES + SURVEY_PURPOSES)
    _replace_check('inbound_sms', 'outcome', 'inbound_sms_outcome', OUTCOMES + ('survey_answer',))



def downgrade():
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_answers_survey_id'))

    op.drop_table('survey_answers')
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index('ix_surveys_tenant_status')
        batch_op.drop_index('ix_surveys_status_planned_for')
        batch_op.drop_index('ix_surveys_recipient_status')
        batch_op.drop_index(batch_op.f('ix_surveys_group_id'))
        batch_op.drop_index(batch_op.f('ix_surveys_contractor_id'))
        batch_op.drop_index(batch_op.f('ix_surveys_claim_id'))

    op.drop_table('surveys')
    op.execute(
        "DELETE FROM outbox_messages WHERE purpose IN ("
        + ", ".join(f"'{p}'" for p in SURVEY_PURPOSES) + ")"
    )
    op.execute("UPDATE inbound_sms SET outcome = 'filed' WHERE outcome = 'survey_answer'")
    _replace_check('inbound_sms', 'outcome', 'inbound_sms_outcome', OUTCOMES)
    _replace_check('outbox_messages', 'purpose', 'outbox_purpose', PURPOSES)


PURPOSES = ('acknowledgement', 'scheduled', 'resolved', 'question', 'sla_warning', 'sla_breach',
            'on_call_alert', 'work_order', 'work_order_reminder', 'work_order_escalation',
            'invitation')
SURVEY_PURPOSES = ('survey', 'survey_reminder', 'survey_clarification', 'survey_not_done')
OUTCOMES = ('opted_out', 'opted_in', 'filed', 'unknown_sender', 'no_open_claim')


def _replace_check(table, column, name, values):
    """A portable enum is a VARCHAR and a CHECK: rewrite the CHECK (SQLite rebuilds the table
    in batch mode, PostgreSQL alters it in place); the columns are wide enough already."""
    allowed = ", ".join(f"'{value}'" for value in values)
    with warnings.catch_warnings():
        # SQLite's rebuild reflects the tables referred to, tenants among them, whose index
        # on lower(email) it cannot reflect (and need not: it is not rebuilt).
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table(table, schema=None, recreate="auto") as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
            batch_op.create_check_constraint(name, sa.text(f"{column} IN ({allowed})"))
