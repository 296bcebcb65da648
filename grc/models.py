"""Imports every model module so SQLAlchemy and Alembic see the whole schema."""

from grc.accounts.models import Invitation  # noqa: F401
from grc.claims.models import (  # noqa: F401
    Category,
    Claim,
    ClaimCaller,
    ClaimEvent,
    ClaimReferenceCounter,
    RoutingRule,
    SlaPolicy,
    TreatmentUnit,
)
from grc.contracts.models import Contract, Contractor, WorkOrder  # noqa: F401
from grc.exports.models import ExportJob  # noqa: F401
from grc.housing.models import Agency, Building, Dwelling, Equipment, Residence, Territory  # noqa: F401
from grc.inbound.models import InboundAttachment, InboundEmail, InboundEmailKey  # noqa: F401
from grc.messaging.models import InboundSms, OutboxMessage  # noqa: F401
from grc.people.models import ApiToken, Lease, Tenant, TenantPhone, User  # noqa: F401
from grc.polls.models import Poll, PollAnswer, PollOptOut, PollQuestion, PollRecipient  # noqa: F401
from grc.ratings.models import ContractorRating, RatingConfig  # noqa: F401
from grc.surveys.models import Survey, SurveyAnswer  # noqa: F401
from grc.telephony.models import Call, CallClaim  # noqa: F401
