"""Photos on claims: uploaded by staff or taken from the tenant's e-mail, kept normalised
(JPEG without metadata) and shown to the contractor through the work order.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 21:55:00

"""
from alembic import op
import sqlalchemy as sa

import grc.db


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('claim_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=50), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', grc.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('upload', 'email')", name=op.f('ck_claim_photos_source')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_claim_photos_claim_id_claims')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_claim_photos_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_photos'))
    )
    with op.batch_alter_table('claim_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_photos_claim_id'), ['claim_id'], unique=False)


def downgrade():
    with op.batch_alter_table('claim_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_photos_claim_id'))
    op.drop_table('claim_photos')
