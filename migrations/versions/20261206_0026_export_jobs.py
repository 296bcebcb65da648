"""Export jobs (exports too large to stream, written by a background job; one active job per
user, kind, filters and format) and the outbox's purpose of the managers' weekly digest.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 13:30:00

"""

import warnings

import sqlalchemy as sa
from alembic import op

import grc.db

# revision identifiers, used by Alembic.
revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

ACTIVE = "status IN ('pending', 'running')"


def upgrade():
    op.create_table(
        "export_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("filters_key", sa.String(length=64), nullable=False),
        sa.Column(
            "format",
            sa.Enum("csv", "xlsx", name="export_format", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "done",
                "failed",
                "expired",
                name="export_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=100), nullable=True),
        sa.Column("download_name", sa.String(length=120), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("created_at", grc.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", grc.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", grc.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", grc.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", grc.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status <> 'done' OR (file_name IS NOT NULL AND finished_at IS NOT NULL"
            " AND expires_at IS NOT NULL)",
            name=op.f("ck_export_jobs_done_has_file"),
        ),
        sa.CheckConstraint("rows_done >= 0", name=op.f("ck_export_jobs_rows_done")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_export_jobs_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_jobs")),
    )
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_export_jobs_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "ix_export_jobs_status_expires_at", ["status", "expires_at"], unique=False
        )
        batch_op.create_index(
            "uq_export_jobs_active_request",
            ["user_id", "kind", "filters_key", "format"],
            unique=True,
            sqlite_where=sa.text(ACTIVE),
            postgresql_where=sa.text(ACTIVE),
        )

    _replace_check("outbox_messages", "purpose", "outbox_purpose", (*PURPOSES, "weekly_digest"))


def downgrade():
    op.execute("DELETE FROM outbox_messages WHERE purpose = 'weekly_digest'")
    _replace_check("outbox_messages", "purpose", "outbox_purpose", PURPOSES)
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.drop_index("uq_export_jobs_active_request")
        batch_op.drop_index("ix_export_jobs_status_expires_at")
        batch_op.drop_index(batch_op.f("ix_export_jobs_user_id"))
    op.drop_table("export_jobs")


PURPOSES = (
    "acknowledgement",
    "scheduled",
    "resolved",
    "question",
    "sla_warning",
    "sla_breach",
    "on_call_alert",
    "work_order",
    "work_order_reminder",
    "work_order_escalation",
    "invitation",
    "survey",
    "survey_reminder",
    "survey_clarification",
    "survey_not_done",
    "poll_question",
    "poll_clarification",
    "poll_thanks",
    "poll_invitation",
)


def _replace_check(table, column, name, values):
    """A portable enum is a VARCHAR and a CHECK: rewrite the CHECK (SQLite rebuilds the table
    in batch mode, PostgreSQL alters it in place); the column is wide enough already."""
    allowed = ", ".join(f"'{value}'" for value in values)
    with warnings.catch_warnings():
        # SQLite's rebuild reflects the tables referred to, tenants among them, whose index
        # on lower(email) it cannot reflect (and need not: it is not rebuilt).
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table(table, schema=None, recreate="auto") as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
            batch_op.create_check_constraint(name, sa.text(f"{column} IN ({allowed})"))
