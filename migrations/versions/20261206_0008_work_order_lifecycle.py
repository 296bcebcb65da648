"""Work orders get a lifecycle of their own; contracts carry deadlines per priority.

- work_orders: status `superseded` (a new order replaced it), `cancelled_at` (set iff
  cancelled or superseded), `beyond_claim_deadline` (the contract gives the contractor
  longer than the claim's resolution deadline), and CHECK constraints that a status and its
  timestamps agree. Existing rows are made consistent first (missing timestamps take the
  best time known: the last reply, else the order's creation).
- inbound_emails: `reply_kind` and `matched_by` become enums (values outside them, which
  GRC never wrote, are cleared).
- contracts: acknowledge and complete hours per claim priority. The old single pair becomes
  the `normal` and `low` deadlines; `high` gets at most 2 h / 24 h and `urgent` at most
  1 h / 4 h (an emergency is made safe within hours), never more than the old pair.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 04:30:00

"""
from alembic import op
import sqlalchemy as sa

import grc.db


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

PRIORITIES = ("urgent", "high", "normal", "low")
# Upper bounds for the new priorities' deadlines (acknowledge, complete), in hours.
CAPS = {"urgent": (1, 4), "high": (2, 24)}
REPLY_KINDS = (
    "acknowledged", "scheduled", "done", "cannot_intervene", "question", "unclear", "auto_reply"
)
MATCHED_BY = ("token", "subject", "thread", "manual", "intake")
OLD_ORDER_STATUSES = ("sent", "acknowledged", "scheduled", "done", "cannot_intervene", "cancelled")
ORDER_STATUSES = OLD_ORDER_STATUSES + ("superseded",)
SQLITE_EVENTS = ("INSERT", "UPDATE", "DELETE")


def _in(values):
    return ", ".join(f"'{v}'" for v in values)


def _at_most(column, cap):
    return f"CASE WHEN {column} < {cap} THEN {column} ELSE {cap} END"


def _restore_sqlite_catalogue_triggers():
    # Rebuilding a table on SQLite (batch mode) drops its triggers: the catalogue stamp of
    # migration 0006 must still change with every change to contracts.
    if op.get_bind().dialect.name != "sqlite":
        return
    for event in SQLITE_EVENTS:
        op.execute(f"DROP TRIGGER IF EXISTS catalogue_changed_contracts_{event.lower()}")
        op.execute(
            f"CREATE TRIGGER catalogue_changed_contracts_{event.lower()} "
            f"AFTER {event} ON contracts BEGIN "
            "INSERT OR REPLACE INTO catalogue_versions (id, stamp) "
            "VALUES (1, lower(hex(randomblob(16)))); END"
        )


def upgrade():
    # --- contracts: deadlines per priority ---------------------------------------------------
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        for priority in PRIORITIES:
            batch_op.add_column(sa.Column(f'{priority}_acknowledge_hours', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column(f'{priority}_complete_hours', sa.Integer(), nullable=True))
    assignments = []
    for priority in PRIORITIES:
        ack, complete = CAPS.get(priority, (None, None))
        assignments.append(
            f"{priority}_acknowledge_hours = "
            + (_at_most("acknowledge_hours", ack) if ack else "acknowledge_hours")
        )
        assignments.append(
            f"{priority}_complete_hours = "
            + (_at_most("complete_hours", complete) if complete else "complete_hours")
        )
    op.execute(f"UPDATE contracts SET {', '.join(assignments)}")
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_contracts_deadlines'), type_='check')
        batch_op.drop_column('acknowledge_hours')
        batch_op.drop_column('complete_hours')
        for priority in PRIORITIES:
            batch_op.alter_column(f'{priority}_acknowledge_hours', existing_type=sa.Integer(), nullable=False)
            batch_op.alter_column(f'{priority}_complete_hours', existing_type=sa.Integer(), nullable=False)
            batch_op.create_check_constraint(
                f'deadlines_{priority}',
                sa.text(
                    f"{priority}_acknowledge_hours > 0 AND "
                    f"{priority}_complete_hours >= {priority}_acknowledge_hours"
                ),
            )
    _restore_sqlite_catalogue_triggers()

    # --- work orders: timestamps agree with the status ----------------------------------------
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', grc.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('beyond_claim_deadline', sa.Boolean(), nullable=False, server_default=sa.false()))
    best_known = "COALESCE(last_reply_at, created_at)"
    op.execute(
        "UPDATE work_orders SET status = 'acknowledged' "
        "WHERE status = 'scheduled' AND appointment_at IS NULL"
    )
    op.execute(
        f"UPDATE work_orders SET acknowledged_at = {best_known} "
        "WHERE acknowledged_at IS NULL AND status IN ('acknowledged', 'scheduled', 'done')"
    )
    op.execute(
        f"UPDATE work_orders SET completed_at = {best_known} "
        "WHERE status = 'done' AND completed_at IS NULL"
    )
    op.execute("UPDATE work_orders SET completed_at = NULL WHERE status <> 'done'")
    op.execute(f"UPDATE work_orders SET cancelled_at = {best_known} WHERE status = 'cancelled'")
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.alter_column('beyond_claim_deadline', existing_type=sa.Boolean(), server_default=None)
        batch_op.drop_constraint(batch_op.f('ck_work_orders_work_order_status'), type_='check')
        batch_op.create_check_constraint(
            'work_order_status', sa.text(f"status IN ({_in(ORDER_STATUSES)})")
        )
        batch_op.create_check_constraint(
            'acknowledged_at_set',
            sa.text(
                "acknowledged_at IS NOT NULL OR status NOT IN ('acknowledged', 'scheduled', 'done')"
            ),
        )
        batch_op.create_check_constraint(
            'done_iff_completed_at', sa.text("(status = 'done') = (completed_at IS NOT NULL)")
        )
        batch_op.create_check_constraint(
            'cancelled_iff_cancelled_at',
            sa.text("(status IN ('cancelled', 'superseded')) = (cancelled_at IS NOT NULL)"),
        )
        batch_op.create_check_constraint(
            'scheduled_has_visit', sa.text("appointment_at IS NOT NULL OR status <> 'scheduled'")
        )

    # --- inbound e-mails: enums for the reading and the match --------------------------------
    op.execute(
        f"UPDATE inbound_emails SET reply_kind = NULL WHERE reply_kind NOT IN ({_in(REPLY_KINDS)})"
    )
    op.execute(
        f"UPDATE inbound_emails SET matched_by = NULL WHERE matched_by NOT IN ({_in(MATCHED_BY)})"
    )
    with op.batch_alter_table('inbound_emails', schema=None) as batch_op:
        batch_op.alter_column(
            'reply_kind',
            existing_type=sa.String(length=30),
            type_=sa.String(length=max(map(len, REPLY_KINDS))),
            existing_nullable=True,
        )
        batch_op.alter_column(
            'matched_by',
            existing_type=sa.String(length=20),
            type_=sa.String(length=max(map(len, MATCHED_BY))),
            existing_nullable=True,
        )
        batch_op.create_check_constraint(
            'inbound_reply_kind', sa.text(f"reply_kind IN ({_in(REPLY_KINDS)})")
        )
        batch_op.create_check_constraint(
            'inbound_matched_by', sa.text(f"matched_by IN ({_in(MATCHED_BY)})")
        )


def downgrade():
    with op.batch_alter_table('inbound_emails', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_inbound_emails_inbound_matched_by'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_inbound_emails_inbound_reply_kind'), type_='check')
        batch_op.alter_column(
            'matched_by', existing_type=sa.String(length=7), type_=sa.String(length=20),
            existing_nullable=True,
        )
        batch_op.alter_column(
            'reply_kind', existing_type=sa.String(length=16), type_=sa.String(length=30),
            existing_nullable=True,
        )

    # A superseded order was, before this revision, a cancelled one.
    op.execute("UPDATE work_orders SET status = 'cancelled' WHERE status = 'superseded'")
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_work_orders_scheduled_has_visit'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_work_orders_cancelled_iff_cancelled_at'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_work_orders_done_iff_completed_at'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_work_orders_acknowledged_at_set'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_work_orders_work_order_status'), type_='check')
        batch_op.create_check_constraint(
            'work_order_status', sa.text(f"status IN ({_in(OLD_ORDER_STATUSES)})")
        )
        batch_op.drop_column('beyond_claim_deadline')
        batch_op.drop_column('cancelled_at')

    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acknowledge_hours', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('complete_hours', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE contracts SET acknowledge_hours = normal_acknowledge_hours, "
        "complete_hours = normal_complete_hours"
    )
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        for priority in PRIORITIES:
            batch_op.drop_constraint(batch_op.f(f'ck_contracts_deadlines_{priority}'), type_='check')
            batch_op.drop_column(f'{priority}_acknowledge_hours')
            batch_op.drop_column(f'{priority}_complete_hours')
        batch_op.alter_column('acknowledge_hours', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('complete_hours', existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint(
            'deadlines', sa.text('acknowledge_hours > 0 AND complete_hours >= acknowledge_hours')
        )
    _restore_sqlite_catalogue_triggers()
