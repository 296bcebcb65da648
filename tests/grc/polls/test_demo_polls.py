"""The demo's two yearly polls: one tenant in ten each, a cleanliness question with results
and a change since last year."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from grc.demo import DemoSizes, load_demo
from grc.extensions import db
from grc.polls.models import Poll, PollStatus, Theme
from grc.polls.results import latest_theme_result


def test_two_yearly_polls_with_answers(app_ctx: Flask) -> None:
    lines = load_demo(
        db.session, DemoSizes(dwellings=600, claims=20), seed=3, echo=lambda _line: None
    )
    assert any("Quality-of-service polls" in line for line in lines)
    polls = list(db.session.execute(sa.select(Poll).order_by(Poll.launched_at)).scalars())
    assert [p.status for p in polls] == [PollStatus.CLOSED, PollStatus.OPEN]
    assert polls[0].quarter != polls[1].quarter
    for poll in polls:
        assert poll.sample_size == poll.populations["all"] // 10
    result = latest_theme_result(db.session, Theme.CLEANLINESS)
    assert result is not None
    assert result.previous_poll is not None
    assert result.previous_poll.id == polls[0].id
    landlord = result.landlord
    assert landlord.figures.enough
    assert landlord.change_points is not None
    assert 0.3 < (landlord.figures.rate or 0) < 0.95
