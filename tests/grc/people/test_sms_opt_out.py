"""One operation says who receives SMS: a STOP, a START, a provider refusing the number."""

from __future__ import annotations

from grc.extensions import db
from grc.people.models import TenantPhone
from grc.people.operations import set_sms_opt_out


def test_every_tenant_holding_the_number_and_only_them(world):
    first, second, other = list(world.tenants.values())[:3]
    shared = first.phones[0].number
    second.phones.append(TenantPhone(number=shared))  # a household's one mobile
    db.session.commit()

    assert set_sms_opt_out(db.session, shared, opted_out=True) == 2
    db.session.commit()
    db.session.expire_all()
    assert (first.sms_opt_out, second.sms_opt_out, other.sms_opt_out) == (True, True, False)

    assert set_sms_opt_out(db.session, shared, opted_out=False) == 2
    db.session.commit()
    db.session.expire_all()
    assert (first.sms_opt_out, second.sms_opt_out) == (False, False)


def test_a_number_nobody_holds_changes_nothing(world):
    assert set_sms_opt_out(db.session, "+33699999999", opted_out=True) == 0
