"""Supplier ratings kept per period (one row per contractor, period, group kind and group
code, with the weights and settings used) and the administrator's current rating settings.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 11:29:04

"""

import sqlalchemy as sa
from alembic import op

import grc.db

# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "contractor_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contractor_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column(
            "period_kind",
            sa.Enum(
                "month",
                "quarter",
                name="rating_period_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "group_kind",
            sa.Enum(
                "overall",
                "category",
                "agency",
                name="rating_group_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("group_code", sa.String(length=40), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("mean_satisfaction", sa.Float(), nullable=True),
        sa.Column("acknowledged_on_time", sa.Float(), nullable=True),
        sa.Column("completed_on_time", sa.Float(), nullable=True),
        sa.Column("reopen_rate", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column(
            "grade",
            sa.Enum(
                "A",
                "B",
                "C",
                "D",
                "E",
                name="rating_grade",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("enough_answers", sa.Boolean(), nullable=False),
        sa.Column("weight_satisfaction", sa.Integer(), nullable=False),
        sa.Column("weight_acknowledged_on_time", sa.Integer(), nullable=False),
        sa.Column("weight_completed_on_time", sa.Integer(), nullable=False),
        sa.Column("weight_not_reopened", sa.Integer(), nullable=False),
        sa.Column("min_answers", sa.Integer(), nullable=False),
        sa.Column("threshold_a", sa.Float(), nullable=False),
        sa.Column("threshold_b", sa.Float(), nullable=False),
        sa.Column("threshold_c", sa.Float(), nullable=False),
        sa.Column("threshold_d", sa.Float(), nullable=False),
        sa.Column("computed_at", grc.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contractor_id"],
            ["contractors.id"],
            name=op.f("fk_contractor_ratings_contractor_id_contractors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contractor_ratings")),
        sa.UniqueConstraint(
            "contractor_id",
            "period",
            "group_kind",
            "group_code",
            name=op.f("uq_contractor_ratings_contractor_id"),
        ),
    )
    with op.batch_alter_table("contractor_ratings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contractor_ratings_period_group", ["period", "group_kind"], unique=False
        )

    op.create_table(
        "rating_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("weight_satisfaction", sa.Integer(), nullable=False),
        sa.Column("weight_acknowledged_on_time", sa.Integer(), nullable=False),
        sa.Column("weight_completed_on_time", sa.Integer(), nullable=False),
        sa.Column("weight_not_reopened", sa.Integer(), nullable=False),
        sa.Column("min_answers", sa.Integer(), nullable=False),
        sa.Column("threshold_a", sa.Float(), nullable=False),
        sa.Column("threshold_b", sa.Float(), nullable=False),
        sa.Column("threshold_c", sa.Float(), nullable=False),
        sa.Column("threshold_d", sa.Float(), nullable=False),
        sa.Column("updated_at", grc.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_rating_settings_single_row")),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_rating_settings_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_settings")),
    )


def downgrade():
    op.drop_table("rating_settings")
    with op.batch_alter_table("contractor_ratings", schema=None) as batch_op:
        batch_op.drop_index("ix_contractor_ratings_period_group")

    op.drop_table("contractor_ratings")
