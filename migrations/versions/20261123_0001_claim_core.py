"""Claim core: housing stock, people, catalogue, routing, contracts, claims and timeline.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 11:25:46.701612

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('claim_reference_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_claim_reference_counters'))
    )
    op.create_table('contractors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contractors')),
    sa.UniqueConstraint('code', name=op.f('uq_contractors_code'))
    )
    op.create_table('sla_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('label_fr', sa.String(length=120), nullable=False),
    sa.Column('label_en', sa.String(length=120), nullable=False),
    sa.Column('response_hours', sa.Integer(), nullable=False),
    sa.Column('resolution_hours', sa.Integer(), nullable=False),
    sa.Column('clock', sa.Enum('business', 'calendar', name='sla_clock', native_enum=False, create_constraint=True), nullable=False),
    sa.CheckConstraint('response_hours > 0 AND resolution_hours >= response_hours', name=op.f('ck_sla_policies_hours')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_policies')),
    sa.UniqueConstraint('code', name=op.f('uq_sla_policies_code'))
    )
    op.create_table('tenants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_ref', sa.String(length=40), nullable=True),
    sa.Column('first_name', sa.String(length=80), nullable=False),
    sa.Column('last_name', sa.String(length=80), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('preferred_channel', sa.Enum('sms', 'email', 'letter', name='tenant_channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('search_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenants')),
    sa.UniqueConstraint('external_ref', name=op.f('uq_tenants_external_ref'))
    )
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tenants_email'), ['email'], unique=False)

    op.create_table('territories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_territories')),
    sa.UniqueConstraint('code', name=op.f('uq_territories_code'))
    )
    op.create_table('agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['territory_id'], ['territories.id'], name=op.f('fk_agencies_territory_id_territories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agencies')),
    sa.UniqueConstraint('code', name=op.f('uq_agencies_code'))
    )
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agencies_territory_id'), ['territory_id'], unique=False)

    op.create_table('categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('label_fr', sa.String(length=160), nullable=False),
    sa.Column('label_en', sa.String(length=160), nullable=False),
    sa.Column('technical', sa.Boolean(), nullable=False),
    sa.Column('location_kind', sa.Enum('dwelling', 'building', 'equipment', name='category_location', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('equipment_kind', sa.String(length=30), nullable=True),
    sa.Column('default_priority', sa.Enum('urgent', 'high', 'normal', 'low', name='category_priority', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('sla_policy_id', sa.Integer(), nullable=True),
    sa.Column('default_route_kind', sa.String(length=10), nullable=True),
    sa.Column('default_route_target', sa.String(length=30), nullable=True),
    sa.Column('responsibility', sa.String(length=20), nullable=False),
    sa.Column('fcr_possible', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("equipment_kind IS NULL OR location_kind = 'equipment'", name=op.f('ck_categories_equipment_kind')),
    sa.CheckConstraint('(default_route_kind IS NULL) = (default_route_target IS NULL)', name=op.f('ck_categories_route_pair')),
    sa.ForeignKeyConstraint(['parent_id'], ['categories.id'], name=op.f('fk_categories_parent_id_categories')),
    sa.ForeignKeyConstraint(['sla_policy_id'], ['sla_policies.id'], name=op.f('fk_categories_sla_policy_id_sla_policies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('code', name=op.f('uq_categories_code'))
    )
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_categories_parent_id'), ['parent_id'], unique=False)

    op.create_table('contracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('contractor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('acknowledge_hours', sa.Integer(), nullable=False),
    sa.Column('complete_hours', sa.Integer(), nullable=False),
    sa.CheckConstraint('acknowledge_hours > 0 AND complete_hours >= acknowledge_hours', name=op.f('ck_contracts_deadlines')),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_contracts_dates_ordered')),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractors.id'], name=op.f('fk_contracts_contractor_id_contractors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts')),
    sa.UniqueConstraint('reference', name=op.f('uq_contracts_reference'))
    )
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contracts_contractor_id'), ['contractor_id'], unique=False)

    op.create_table('tenant_phones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.Enum('mobile', 'landline', 'other', name='phone_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_phones_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant_phones')),
    sa.UniqueConstraint('tenant_id', 'number', name=op.f('uq_tenant_phones_tenant_id'))
    )
    with op.batch_alter_table('tenant_phones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tenant_phones_number'), ['number'], unique=False)

    op.create_table('contract_categories',
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_contract_categories_category_id_categories')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_categories_contract_id_contracts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contract_id', 'category_id', name=op.f('pk_contract_categories'))
    )
    with op.batch_alter_table('contract_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_categories_category_id'), ['category_id'], unique=False)

    op.create_table('residences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('department_code', sa.String(length=3), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_residences_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_residences')),
    sa.UniqueConstraint('code', name=op.f('uq_residences_code'))
    )
    with op.batch_alter_table('residences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_residences_agency_id'), ['agency_id'], unique=False)

    op.create_table('treatment_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_treatment_units_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_treatment_units')),
    sa.UniqueConstraint('agency_id', 'kind', name=op.f('uq_treatment_units_agency_id')),
    sa.UniqueConstraint('code', name=op.f('uq_treatment_units_code'))
    )
    with op.batch_alter_table('treatment_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_treatment_units_kind'), ['kind'], unique=False)

    op.create_table('buildings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('residence_id', sa.Integer(), nullable=False),
    sa.Column('entrance', sa.String(length=40), nullable=True),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('postcode', sa.String(length=10), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=False),
    sa.Column('search_address', sa.String(length=400), nullable=False),
    sa.ForeignKeyConstraint(['residence_id'], ['residences.id'], name=op.f('fk_buildings_residence_id_residences')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buildings')),
    sa.UniqueConstraint('code', name=op.f('uq_buildings_code'))
    )
    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_buildings_residence_id'), ['residence_id'], unique=False)

    op.create_table('contract_residences',
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('residence_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_residences_contract_id_contracts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['residence_id'], ['residences.id'], name=op.f('fk_contract_residences_residence_id_residences')),
    sa.PrimaryKeyConstraint('contract_id', 'residence_id', name=op.f('pk_contract_residences'))
    )
    with op.batch_alter_table('contract_residences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_residences_residence_id'), ['residence_id'], unique=False)

    op.create_table('routing_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('residence_id', sa.Integer(), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('territory_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(CASE WHEN residence_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN agency_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN territory_id IS NULL THEN 0 ELSE 1 END) <= 1', name=op.f('ck_routing_rules_one_scope')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_routing_rules_agency_id_agencies')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_routing_rules_category_id_categories')),
    sa.ForeignKeyConstraint(['residence_id'], ['residences.id'], name=op.f('fk_routing_rules_residence_id_residences')),
    sa.ForeignKeyConstraint(['territory_id'], ['territories.id'], name=op.f('fk_routing_rules_territory_id_territories')),
    sa.ForeignKeyConstraint(['unit_id'], ['treatment_units.id'], name=op.f('fk_routing_rules_unit_id_treatment_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules'))
    )
    with op.batch_alter_table('routing_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_rules_category_id'), ['category_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.Enum('agent', 'unit', 'manager', 'admin', name='user_role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role != 'unit' OR unit_id IS NOT NULL", name=op.f('ck_users_unit_role_has_unit')),
    sa.ForeignKeyConstraint(['unit_id'], ['treatment_units.id'], name=op.f('fk_users_unit_id_treatment_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_unit_id'), ['unit_id'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('dwellings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('floor', sa.SmallInteger(), nullable=False),
    sa.Column('door', sa.String(length=20), nullable=False),
    sa.Column('typology', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_dwellings_building_id_buildings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dwellings')),
    sa.UniqueConstraint('code', name=op.f('uq_dwellings_code'))
    )
    with op.batch_alter_table('dwellings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dwellings_building_id'), ['building_id'], unique=False)

    op.create_table('equipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('elevator', 'boiler_room', 'gate', 'entry_phone', 'ventilation', 'garage_door', name='equipment_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_equipment_building_id_buildings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_equipment')),
    sa.UniqueConstraint('code', name=op.f('uq_equipment_code'))
    )
    with op.batch_alter_table('equipment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_equipment_building_id'), ['building_id'], unique=False)

    op.create_table('claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('status', sa.Enum('received', 'assigned', 'in_progress', 'waiting_tenant', 'resolved', 'closed', 'cancelled', name='claim_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('channel', sa.Enum('phone', 'web', 'app', 'email', 'letter', 'desk', name='claim_channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('priority', sa.Enum('urgent', 'high', 'normal', 'low', name='claim_priority', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('location_kind', sa.Enum('dwelling', 'building', 'equipment', name='claim_location', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('dwelling_id', sa.Integer(), nullable=True),
    sa.Column('equipment_id', sa.Integer(), nullable=True),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('residence_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('route_kind', sa.Enum('unit', 'contractor', name='claim_route_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('route_reason_code', sa.Enum('contract', 'rule', 'default', 'manual', name='claim_route_reason', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('route_reason', sa.String(length=400), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('contractor_id', sa.Integer(), nullable=True),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('sla_clock', sa.Enum('business', 'calendar', name='claim_sla_clock', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('response_due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolution_due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_before_pause', sa.Enum('received', 'assigned', 'in_progress', 'waiting_tenant', 'resolved', 'closed', 'cancelled', name='claim_status_before_pause', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_contact_resolution', sa.Boolean(), nullable=False),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(route_kind = 'contractor') = (contractor_id IS NOT NULL)", name=op.f('ck_claims_contractor_route')),
    sa.CheckConstraint("(status = 'cancelled') = (cancelled_at IS NOT NULL)", name=op.f('ck_claims_cancelled_at')),
    sa.CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name=op.f('ck_claims_closed_at')),
    sa.CheckConstraint("(status = 'waiting_tenant') = (paused_at IS NOT NULL)", name=op.f('ck_claims_paused_at')),
    sa.CheckConstraint("(status IN ('resolved', 'closed')) = (resolved_at IS NOT NULL)", name=op.f('ck_claims_resolved_at')),
    sa.CheckConstraint('NOT first_contact_resolution OR resolved_at IS NOT NULL', name=op.f('ck_claims_fcr_resolved')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_claims_agency_id_agencies')),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_claims_building_id_buildings')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_claims_category_id_categories')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_claims_contract_id_contracts')),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractors.id'], name=op.f('fk_claims_contractor_id_contractors')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_claims_created_by_id_users')),
    sa.ForeignKeyConstraint(['dwelling_id'], ['dwellings.id'], name=op.f('fk_claims_dwelling_id_dwellings')),
    sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'], name=op.f('fk_claims_equipment_id_equipment')),
    sa.ForeignKeyConstraint(['residence_id'], ['residences.id'], name=op.f('fk_claims_residence_id_residences')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_claims_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['unit_id'], ['treatment_units.id'], name=op.f('fk_claims_unit_id_treatment_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claims')),
    sa.UniqueConstraint('reference', name=op.f('uq_claims_reference'))
    )
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claims_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_building_id'), ['building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_contractor_id'), ['contractor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_dwelling_id'), ['dwelling_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_equipment_id'), ['equipment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_residence_id'), ['residence_id'], unique=False)
        batch_op.create_index('ix_claims_status_resolution_due', ['status', 'resolution_due'], unique=False)
        batch_op.create_index(batch_op.f('ix_claims_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_claims_unit_status', ['unit_id', 'status'], unique=False)

    op.create_table('leases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('dwelling_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_leases_dates_ordered')),
    sa.ForeignKeyConstraint(['dwelling_id'], ['dwellings.id'], name=op.f('fk_leases_dwelling_id_dwellings')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_leases_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leases')),
    sa.UniqueConstraint('reference', name=op.f('uq_leases_reference'))
    )
    with op.batch_alter_table('leases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leases_dwelling_id'), ['dwelling_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leases_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('claim_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('created', 'routed', 'status_changed', 'comment', name='claim_event_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=True),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=True),
    sa.Column('visibility', sa.Enum('internal', 'tenant', name='claim_event_visibility', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_claim_events_actor_id_users')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_claim_events_claim_id_claims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_events'))
    )
    with op.batch_alter_table('claim_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_events_claim_id'), ['claim_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        _create_postgresql_search_and_guards()


def _create_postgresql_search_and_guards():
    # Trigram indexes serve "part of a name / address" searches; text_pattern_ops serves
    # the common "start of the last name" search in index order.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_tenants_search_name_trgm ON tenants USING gin (search_name gin_trgm_ops)")
    op.execute("CREATE INDEX ix_tenants_search_name_prefix ON tenants (search_name text_pattern_ops)")
    op.execute(
        "CREATE INDEX ix_buildings_search_address_trgm ON buildings USING gin (search_address gin_trgm_ops)"
    )
    # The timeline is the audit trail: it can grow, never be rewritten.
    op.execute(
        """
        CREATE FUNCTION claim_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'claim_events is append-only';
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER claim_events_append_only BEFORE UPDATE OR DELETE ON claim_events "
        "FOR EACH ROW EXECUTE FUNCTION claim_events_append_only()"
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS claim_events_append_only ON claim_events")
        op.execute("DROP FUNCTION IF EXISTS claim_events_append_only()")
        op.execute("DROP INDEX IF EXISTS ix_buildings_search_address_trgm")
        op.execute("DROP INDEX IF EXISTS ix_tenants_search_name_prefix")
        op.execute("DROP INDEX IF EXISTS ix_tenants_search_name_trgm")
    with op.batch_alter_table('claim_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_events_claim_id'))

    op.drop_table('claim_events')
    with op.batch_alter_table('leases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leases_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_leases_dwelling_id'))

    op.drop_table('leases')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index('ix_claims_unit_status')
        batch_op.drop_index(batch_op.f('ix_claims_tenant_id'))
        batch_op.drop_index('ix_claims_status_resolution_due')
        batch_op.drop_index(batch_op.f('ix_claims_residence_id'))
        batch_op.drop_index(batch_op.f('ix_claims_equipment_id'))
        batch_op.drop_index(batch_op.f('ix_claims_dwelling_id'))
        batch_op.drop_index(batch_op.f('ix_claims_created_at'))
        batch_op.drop_index(batch_op.f('ix_claims_contractor_id'))
        batch_op.drop_index(batch_op.f('ix_claims_category_id'))
        batch_op.drop_index(batch_op.f('ix_claims_building_id'))
        batch_op.drop_index(batch_op.f('ix_claims_agency_id'))

    op.drop_table('claims')
    with op.batch_alter_table('equipment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_equipment_building_id'))

    op.drop_table('equipment')
    with op.batch_alter_table('dwellings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dwellings_building_id'))

    op.drop_table('dwellings')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_unit_id'))

    op.drop_table('users')
    with op.batch_alter_table('routing_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_rules_category_id'))

    op.drop_table('routing_rules')
    with op.batch_alter_table('contract_residences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_residences_residence_id'))

    op.drop_table('contract_residences')
    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_buildings_residence_id'))

    op.drop_table('buildings')
    with op.batch_alter_table('treatment_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_treatment_units_kind'))

    op.drop_table('treatment_units')
    with op.batch_alter_table('residences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_residences_agency_id'))

    op.drop_table('residences')
    with op.batch_alter_table('contract_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_categories_category_id'))

    op.drop_table('contract_categories')
    with op.batch_alter_table('tenant_phones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenant_phones_number'))

    op.drop_table('tenant_phones')
    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contracts_contractor_id'))

    op.drop_table('contracts')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_categories_parent_id'))

    op.drop_table('categories')
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agencies_territory_id'))

    op.drop_table('agencies')
    op.drop_table('territories')
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenants_email'))

    op.drop_table('tenants')
    op.drop_table('sla_policies')
    op.drop_table('contractors')
    op.drop_table('claim_reference_counters')
