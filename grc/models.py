"""Imports every model module so SQLAlchemy and Alembic see the whole schema."""

from grc.claims.models import (  # noqa: F401
    Category,
    Claim,
    ClaimEvent,
    ClaimReferenceCounter,
    RoutingRule,
    SlaPolicy,
    TreatmentUnit,
)
from grc.contracts.models import (  # noqa: F401
    Contract,
    Contractor,
    InboundAttachment,
    InboundEmail,
    InboundEmailKey,
    WorkOrder,
)
from grc.housing.models import Agency, Building, Dwelling, Equipment, Residence, Territory  # noqa: F401
from grc.messaging.models import InboundSms, OutboxMessage  # noqa: F401
from grc.people.models import ApiToken, Lease, Tenant, TenantPhone, User  # noqa: F401
