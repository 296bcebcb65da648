"""Quality-of-service polls for managers and administrators: the polls, and one poll's
results per question and group (the regulatory CUS sheet reads the cleanliness figure)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView

from grc.arguments import Blueprint
from grc.auth import Permission, require
from grc.errors import NotFound
from grc.extensions import db
from grc.polls import results
from grc.polls.models import Poll, PollRecipient, RecipientStatus
from grc.polls.schemas import PollResultsSchema, PollSchema

blp = Blueprint(
    "polls", __name__, url_prefix="/api/v1", description="Quality-of-service polls and results"
)


def _counts(status: RecipientStatus | None = None) -> dict[int, int]:
    stmt = sa.select(PollRecipient.poll_id, sa.func.count()).group_by(PollRecipient.poll_id)
    if status is not None:
        stmt = stmt.where(PollRecipient.status == status)
    return {poll_id: int(count) for poll_id, count in db.session.execute(stmt)}


def _poll(poll: Poll, drawn: dict[int, int], answered: dict[int, int]) -> dict[str, Any]:
    return {
        "id": poll.id,
        "title": poll.title,
        "quarter": poll.quarter,
        "status": str(poll.status),
        "sample_size": poll.sample_size,
        "drawn": drawn.get(poll.id, 0),
        "answered": answered.get(poll.id, 0),
        "launched_at": poll.launched_at,
        "closes_at": poll.closes_at,
        "themes": [str(q.theme) for q in poll.questions],
    }


@blp.route("/polls")
class PollList(MethodView):
    @require(Permission.POLLS_READ)
    @blp.response(200, PollSchema(many=True))
    def get(self) -> Any:
        """Every poll, the latest first."""
        polls = db.session.execute(sa.select(Poll).order_by(Poll.launched_at.desc())).scalars()
        drawn, answered = _counts(), _counts(RecipientStatus.ANSWERED)
        return [_poll(poll, drawn, answered) for poll in polls]


@blp.route("/polls/<int(max=2147483647):poll_id>/results")
class PollResults(MethodView):
    @require(Permission.POLLS_READ)
    @blp.response(200, PollResultsSchema)
    def get(self, poll_id: int) -> Any:
        """Per question, for the whole landlord then each agency, residence and building:
        answers, satisfaction rate and 95 % margin of error (null under 5 answers), change
        in points since the previous poll of the same theme."""
        poll = db.session.get(Poll, poll_id)
        if poll is None:
            raise NotFound(f"No poll with id {poll_id}.")
        return {
            "poll": _poll(poll, _counts(), _counts(RecipientStatus.ANSWERED)),
            "questions": [results.as_dict(r) for r in results.poll_results(db.session, poll)],
        }
