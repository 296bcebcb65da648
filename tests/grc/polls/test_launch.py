"""Launching a poll: the sample stratified by agency, the channels, one poll per tenant per
quarter (a unique key, even for two launches at the same moment)."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from grc.errors import InvalidInput
from grc.extensions import db
from grc.people.models import Channel, PhoneKind
from grc.polls.models import PollOptOut, PollRecipient, RecipientChannel, Theme
from grc.polls.operations import NewPoll, NewQuestion, launch_poll
from tests.grc.polls.helpers import TUESDAY, launched, recipients


def test_the_sample_is_stratified_by_agency_and_once_a_quarter(world):
    # Metz 2 tenants, Woippy 2, Nancy 4: 4 drawn → 1, 1, 2.
    poll = launched(sample=4)
    drawn = recipients(poll)
    agencies = {a.id: code for code, a in world.agencies.items()}
    assert Counter(agencies[r.agency_id] for r in drawn) == {"METZ": 1, "WOIPPY": 1, "NANCY": 2}
    assert poll.populations["all"] == 8
    assert poll.populations[f"agency:{world.agencies['NANCY'].id}"] == 4
    assert {r.channel for r in drawn} == {RecipientChannel.SMS}
    assert all(r.quarter == "2026-Q1" for r in drawn)
    # A second poll this quarter takes only the four left.
    second = launched(sample=8, seed=2)
    assert len(recipients(second)) == 4
    assert {r.tenant_id for r in recipients(second)}.isdisjoint({r.tenant_id for r in drawn})


def test_channels_and_who_is_skipped(world):
    tenants = world.tenants
    tenants["TIL-11"].preferred_channel = Channel.EMAIL  # → e-mail
    tenants["TIL-12"].phones[0].kind = PhoneKind.LANDLINE  # no mobile → e-mail
    tenants["PARC-11"].phones[0].kind = PhoneKind.LANDLINE
    tenants["PARC-11"].email = None  # neither → the call list
    tenants["PARC-12"].preferred_channel = Channel.LETTER  # letters only → called
    db.session.add(PollOptOut(tenant_id=tenants["HAUS-11"].id))  # opted out → never drawn
    tenants["HAUS-12"].phones.clear()
    tenants["HAUS-12"].email = None  # no way to reach → never drawn
    db.session.commit()
    drawn = {r.tenant_id: r for r in recipients(launched(sample=8))}
    assert drawn[tenants["TIL-11"].id].channel == RecipientChannel.EMAIL
    assert drawn[tenants["TIL-12"].id].channel == RecipientChannel.EMAIL
    assert drawn[tenants["PARC-11"].id].channel == RecipientChannel.CALL
    assert drawn[tenants["PARC-11"].id].address == "+33701020304"
    assert drawn[tenants["PARC-12"].id].channel == RecipientChannel.CALL
    assert drawn[tenants["BELL-11"].id].channel == RecipientChannel.SMS
    assert tenants["HAUS-11"].id not in drawn
    assert tenants["HAUS-12"].id not in drawn
    assert len(drawn) == 6


def test_bad_input_names_the_field(world):
    with pytest.raises(InvalidInput) as raised:
        launch_poll(db.session, NewPoll(" ", [NewQuestion(Theme.OTHER)] * 9, 0), None, TUESDAY)
    fields = set(raised.value.errors["json"])
    assert fields >= {"title", "questions", "sample_size", "questions.1.text_fr"}


def test_two_launches_at_once_never_share_a_tenant(app, world, backend):
    if backend != "postgresql":
        pytest.skip("two sessions writing at once: PostgreSQL")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def launch(seed: int) -> None:
        try:
            with app.app_context(), Session(db.engine) as session:
                # Both read the whole frame before either writes.
                session.execute(sa.select(sa.func.count()).select_from(PollRecipient))
                barrier.wait(timeout=10)
                launch_poll(
                    session,
                    NewPoll(f"Sondage {seed}", [NewQuestion(Theme.CLEANLINESS)], 5),
                    None,
                    TUESDAY,
                    random.Random(seed),
                )
                session.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=launch, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    drawn = recipients()
    tenants = [r.tenant_id for r in drawn]
    assert len(tenants) == len(set(tenants)) == 8  # 5 + the 3 left
