"""The page of a poll e-mail's link, no sign-in: every question on one page, French by
default (``?lang=en``), usable on a phone. The signed token names one recipient and is the
only credential; nothing rides on cookies. A question answered before keeps its first
answer (a unique key), so the page posted twice records nothing more."""

from __future__ import annotations

from http import HTTPStatus

from flask import Blueprint, Response, request
from flask_babel import gettext as _

from grc.db import utcnow
from grc.extensions import db
from grc.polls import answers
from grc.polls.figures import VALUES
from grc.polls.models import AnswerSource, PollRecipient, RecipientStatus
from grc.polls.operations import read_page_token
from grc.web.pages import token_page

blp = Blueprint("poll_links", __name__, url_prefix="/sondage", template_folder="templates")


def _page(status: int = 200, **context: object) -> Response:
    return token_page(
        "polls/answer.html",
        status,
        **{"recipient": None, "form": False, "message": None, "missing": False, **context},
    )


def _invalid() -> Response:
    return _page(
        status=HTTPStatus.NOT_FOUND,
        title=_("Invalid link"),
        message=_("This link is not valid or the survey is over. Thank you all the same."),
        message_class="warn",
    )


def _load(token: str) -> PollRecipient | None:
    recipient_id = read_page_token(token)
    if recipient_id is None:
        return None
    return answers.recipient_of_page(db.session, recipient_id, utcnow())


@blp.get("/<string(maxlength=300):token>")
def poll_page(token: str) -> Response:
    recipient = _load(token)
    if recipient is None:
        return _invalid()
    if recipient.status == RecipientStatus.ANSWERED:
        return _page(
            title=_("Your opinion"),
            message=_("Your answers are already recorded. Thank you."),
            message_class="done",
        )
    answered = {a.question_id for a in recipient.answers}
    return _page(title=_("Your opinion"), recipient=recipient, answered=answered, form=True)


@blp.post("/<string(maxlength=300):token>")
def record_page(token: str) -> Response:
    recipient = _load(token)
    if recipient is None:
        return _invalid()
    values: dict[int, int] = {}
    for question in recipient.poll.questions:
        given = request.form.get(f"q{question.id}", "")
        if given.isdigit() and int(given) in VALUES:
            values[question.id] = int(given)
    if not values:
        answered = {a.question_id for a in recipient.answers}
        return _page(
            status=HTTPStatus.BAD_REQUEST,
            title=_("Your opinion"),
            recipient=recipient,
            answered=answered,
            form=True,
            missing=True,
            message=_("Please choose an answer to at least one question."),
            message_class="warn",
        )
    answers.record_answers(db.session, recipient, values, AnswerSource.EMAIL, utcnow())
    db.session.commit()
    return _page(
        title=_("Your opinion"),
        message=_("Thank you, your answers are recorded."),
        message_class="done",
    )


@blp.post("/<string(maxlength=300):token>/stop")
def decline(token: str) -> Response:
    recipient = _load(token)
    if recipient is None:
        return _invalid()
    answers.decline(db.session, recipient, utcnow())
    db.session.commit()
    return _page(
        title=_("Your opinion"),
        message=_("Understood: we will not ask you to take part in our surveys any more."),
        message_class="done",
    )
