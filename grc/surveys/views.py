"""The page of a survey e-mail's links, no sign-in: each of the five links names the
surveys of one message and one score, signed, and expires with the survey.

GET shows the score chosen with an optional comment (and "the work was not done"); only the
POST of its button records the answer, so a mail scanner that follows links changes
nothing. The signed token is the only credential, for this purpose only; nothing rides on
cookies, so no session could be borrowed by a forged form.
"""

from __future__ import annotations

from http import HTTPStatus

from flask import Blueprint, Response, request
from flask_babel import gettext as _

from grc.db import utcnow
from grc.extensions import db
from grc.surveys import answers
from grc.surveys.models import Survey, SurveyStatus
from grc.surveys.operations import read_answer_token, surveys_of_group
from grc.web.pages import token_page

blp = Blueprint("survey_links", __name__, url_prefix="/enquete", template_folder="templates")

MAX_COMMENT = 1000


def _page(status: int = 200, **context: object) -> Response:
    return token_page(
        "surveys/answer.html",
        status,
        **{"surveys": [], "score": None, "form": False, "message": None, **context},
    )


def _invalid() -> Response:
    return _page(
        status=HTTPStatus.NOT_FOUND,
        title=_("Invalid link"),
        message=_("This link is not valid or has expired. Thank you all the same."),
        message_class="warn",
    )


def _load(token: str) -> tuple[list[Survey], int] | None:
    found = read_answer_token(token)
    if found is None:
        return None
    group_id, score = found
    group = surveys_of_group(db.session, group_id)
    now = utcnow()
    if not any(
        s.status in (SurveyStatus.SENT, SurveyStatus.REMINDED, SurveyStatus.ANSWERED)
        and s.expires_at is not None
        and s.expires_at > now
        for s in group
    ):
        return None
    return group, score


@blp.get("/<string(maxlength=300):token>")
def answer_page(token: str) -> Response:
    loaded = _load(token)
    if loaded is None:
        return _invalid()
    group, score = loaded
    if all(s.status == SurveyStatus.ANSWERED for s in group):
        return _page(
            title=_("Your opinion"),
            surveys=group,
            message=_("Your answer is already recorded. Thank you."),
            message_class="done",
        )
    return _page(title=_("Your opinion"), surveys=group, score=score, form=True)


@blp.post("/<string(maxlength=300):token>")
def record_answer(token: str) -> Response:
    loaded = _load(token)
    if loaded is None:
        return _invalid()
    group, score = loaded
    comment = (request.form.get("comment") or "")[:MAX_COMMENT]
    not_done = request.form.get("not_done") == "1"
    outcome = answers.apply_link_answer(
        db.session, group[0].group_id or group[0].id, score, not_done, comment, utcnow()
    )
    if outcome is None:
        db.session.rollback()
        return _invalid()
    db.session.commit()
    return _page(
        title=_("Your opinion"),
        surveys=group,
        message=(
            _("Thank you, your answer is recorded.")
            if outcome.counted
            else _("Your first answer is the one that counts; this one is kept too. Thank you.")
        ),
        message_class="done",
    )
