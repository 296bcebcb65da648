"""Operations on tenants and users. They flush, never commit; the caller commits."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from grc.db import rows_changed
from grc.people.models import Tenant, TenantPhone


def set_sms_opt_out(session: Session, number: str, opted_out: bool) -> int:
    """Every tenant holding ``number`` (E.164) stops receiving SMS, or receives them again:
    the tenant's own STOP or START by SMS, or the provider refusing the number as opted
    out. Returns how many tenants hold it."""
    holders = session.execute(
        sa.update(Tenant)
        .where(Tenant.id.in_(sa.select(TenantPhone.tenant_id).where(TenantPhone.number == number)))
        .values(sms_opt_out=opted_out)
        .execution_options(synchronize_session="fetch")
    )
    return rows_changed(holders)
