"""A stamp that changes whenever the catalogue or routing tables change, so that each
process may keep those tables in memory and know when its copy is stale.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 01:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# What grc.claims.catalogue_cache keeps in memory. Frozen here: a later migration that
# caches another table adds its trigger itself.
WATCHED_TABLES = (
    "categories",
    "sla_policies",
    "treatment_units",
    "routing_rules",
    "contractors",
    "contracts",
    "contract_residences",
    "contract_categories",
)
SQLITE_EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade():
    op.create_table('catalogue_versions',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('stamp', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_versions'))
    )
    if op.get_bind().dialect.name == "postgresql":
        # A random stamp, not a counter: a rolled-back change must never produce a stamp
        # that a later, different state of the tables could carry again.
        op.execute(
            """
            CREATE FUNCTION grc_catalogue_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO catalogue_versions (id, stamp)
                VALUES (1, replace(gen_random_uuid()::text, '-', ''))
                ON CONFLICT (id) DO UPDATE SET stamp = EXCLUDED.stamp;
                RETURN NULL;
            END $$
            """
        )
        for table in WATCHED_TABLES:
            op.execute(
                f"CREATE TRIGGER catalogue_changed AFTER INSERT OR UPDATE OR DELETE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION grc_catalogue_changed()"
            )
            op.execute(
                f"CREATE TRIGGER catalogue_truncated AFTER TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION grc_catalogue_changed()"
            )
        op.execute(
            "INSERT INTO catalogue_versions (id, stamp) "
            "VALUES (1, replace(gen_random_uuid()::text, '-', ''))"
        )
    else:
        for table in WATCHED_TABLES:
            for event in SQLITE_EVENTS:
                op.execute(
                    f"CREATE TRIGGER catalogue_changed_{table}_{event.lower()} "
                    f"AFTER {event} ON {table} BEGIN "
                    "INSERT OR REPLACE INTO catalogue_versions (id, stamp) "
                    "VALUES (1, lower(hex(randomblob(16)))); END"
                )
        op.execute(
            "INSERT INTO catalogue_versions (id, stamp) VALUES (1, lower(hex(randomblob(16))))"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS catalogue_changed ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS catalogue_truncated ON {table}")
        op.execute("DROP FUNCTION IF EXISTS grc_catalogue_changed()")
    else:
        for table in WATCHED_TABLES:
            for event in SQLITE_EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS catalogue_changed_{table}_{event.lower()}")
    op.drop_table('catalogue_versions')
