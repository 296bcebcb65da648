"""The polls' screens: for managers, the list, the launch form and each poll's results; for
call-centre agents, the call list (tenants with neither mobile nor e-mail, or whose SMS
answers were not understood), each taken by one agent at a time. Thin over
``grc.polls.operations``, ``answers`` and ``results``."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from grc.auth import Permission
from grc.db import utcnow
from grc.errors import InvalidInput
from grc.extensions import db
from grc.people.models import Tenant
from grc.polls import answers, results
from grc.polls.figures import VALUES
from grc.polls.models import (
    CallOutcome,
    Poll,
    PollAnswer,
    PollRecipient,
    RecipientStatus,
    Theme,
)
from grc.polls.operations import (
    MAX_QUESTIONS,
    STANDARD_QUESTIONS,
    NewPoll,
    NewQuestion,
    launch_poll,
)
from grc.web.pages import NavItem, add_to_navigation, page, page_blueprint

blp = page_blueprint("polls_page", __name__)

add_to_navigation(NavItem("polls_page.index", _l("Polls"), Permission.POLLS_READ))
add_to_navigation(NavItem("polls_page.calls", _l("Poll calls"), Permission.POLLS_CALL))

THEME_WORDS = {
    Theme.CLEANLINESS: _l("Cleanliness of common areas"),
    Theme.COLLECTIVE_EQUIPMENT: _l("Shared equipment"),
    Theme.DWELLING_EQUIPMENT: _l("Equipment of the home"),
    Theme.TECHNICAL_REQUESTS: _l("Handling of technical requests"),
    Theme.INFORMATION: _l("Information from the landlord"),
    Theme.OVERALL: _l("Overall satisfaction"),
    Theme.OTHER: _l("Other (own text)"),
}
VALUE_WORDS = {
    1: _l("Very satisfied"),
    2: _l("Fairly satisfied"),
    3: _l("Not very satisfied"),
    4: _l("Not at all satisfied"),
}
OUTCOME_WORDS = {
    CallOutcome.ANSWERED: _l("Answers recorded"),
    CallOutcome.NO_ANSWER: _l("No answer"),
    CallOutcome.CALL_LATER: _l("Call later"),
    CallOutcome.REFUSED: _l("Refused"),
}
LEVEL_WORDS = {
    "landlord": _l("Whole landlord"),
    "agency": _l("Agencies"),
    "residence": _l("Residences"),
    "building": _l("Buildings"),
}


def _percent(value: float | None) -> str:
    return "—" if value is None else format_percent(value, format="#0.0 %")


def _points(value: float | None) -> str:
    if value is None:
        return "—"
    return ("+" if value > 0 else "") + format_decimal(value, format="#0.0") + " pt"


@blp.get("/polls")
@page(Permission.POLLS_READ)
def index() -> Any:
    counts = dict(
        db.session.execute(
            sa.select(PollRecipient.poll_id, sa.func.count()).group_by(PollRecipient.poll_id)
        ).all()
    )
    done = dict(
        db.session.execute(
            sa.select(PollRecipient.poll_id, sa.func.count())
            .where(PollRecipient.status == RecipientStatus.ANSWERED)
            .group_by(PollRecipient.poll_id)
        ).all()
    )
    polls = list(db.session.execute(sa.select(Poll).order_by(Poll.launched_at.desc())).scalars())
    return render_template(
        "polls/index.html", title=_("Polls"), polls=polls, counts=counts, done=done
    )


@blp.route("/polls/new", methods=["GET", "POST"])
@page(Permission.POLLS_LAUNCH)
def launch() -> Any:
    errors: dict[str, list[str]] = {}
    form = request.form
    if request.method == "POST":
        questions = []
        for number in range(1, MAX_QUESTIONS + 1):
            theme = form.get(f"theme{number}", "")
            if theme in Theme.__members__.values():
                questions.append(
                    NewQuestion(
                        Theme(theme),
                        form.get(f"text_fr{number}", ""),
                        form.get(f"text_en{number}", ""),
                    )
                )
        size = form.get("sample_size", "").strip()
        try:
            poll = launch_poll(
                db.session,
                NewPoll(form.get("title", ""), questions, int(size) if size.isdigit() else 0),
                g.user,
                utcnow(),
            )
        except InvalidInput as error:
            db.session.rollback()
            errors = (error.errors or {}).get("json", {})
        else:
            db.session.commit()
            drawn = db.session.scalar(
                sa.select(sa.func.count()).where(PollRecipient.poll_id == poll.id)
            )
            flash(_("The poll is launched: %(count)s tenants drawn.", count=drawn), "success")
            return redirect(url_for("polls_page.show", poll_id=poll.id))
    status = HTTPStatus.UNPROCESSABLE_ENTITY if errors else HTTPStatus.OK
    return render_template(
        "polls/new.html",
        title=_("Launch a poll"),
        form=form,
        errors=errors,
        themes=THEME_WORDS,
        standard=STANDARD_QUESTIONS,
        slots=range(1, MAX_QUESTIONS + 1),
    ), status


@blp.get("/polls/<int(max=2147483647):poll_id>")
@page(Permission.POLLS_READ)
def show(poll_id: int) -> Any:
    poll = db.session.get(Poll, poll_id)
    if poll is None:
        abort(HTTPStatus.NOT_FOUND)
    level = request.args.get("level", "agency")
    if level not in results.LEVELS:
        level = "agency"
    return render_template(
        "polls/show.html",
        title=poll.title,
        poll=poll,
        results=results.poll_results(db.session, poll),
        level=level,
        levels=LEVEL_WORDS,
        themes=THEME_WORDS,
        percent=_percent,
        points=_points,
    )


# --- the call list -------------------------------------------------------------------------

CALL_LIST_SIZE = 50


@blp.get("/polls/calls")
@page(Permission.POLLS_CALL)
def calls() -> Any:
    now = utcnow()
    rows = db.session.execute(
        sa.select(PollRecipient, Tenant, Poll)
        .join(Poll, Poll.id == PollRecipient.poll_id)
        .join(Tenant, Tenant.id == PollRecipient.tenant_id)
        .where(answers.call_list_filter(now))
        .order_by(PollRecipient.call_attempts, PollRecipient.id)
        .limit(CALL_LIST_SIZE)
    ).all()
    return render_template(
        "polls/calls.html",
        title=_("Poll calls"),
        rows=rows,
        now=now,
        take_for=answers.TAKE_FOR,
        outcomes=OUTCOME_WORDS,
    )


@blp.post("/polls/calls/<int(max=2147483647):recipient_id>/take")
@page(Permission.POLLS_CALL)
def take(recipient_id: int) -> Any:
    if not answers.take_call(db.session, recipient_id, g.user, utcnow()):
        db.session.rollback()
        flash(_("Another agent is calling this tenant, or the call is no longer needed."), "error")
        return redirect(url_for("polls_page.calls")), HTTPStatus.SEE_OTHER
    db.session.commit()
    return redirect(url_for("polls_page.call", recipient_id=recipient_id), HTTPStatus.SEE_OTHER)


def _taken(recipient_id: int) -> PollRecipient:
    recipient = db.session.get(PollRecipient, recipient_id)
    if recipient is None or recipient.taken_by_id != g.user.id:
        abort(HTTPStatus.NOT_FOUND)
    return recipient


@blp.get("/polls/calls/<int(max=2147483647):recipient_id>")
@page(Permission.POLLS_CALL)
def call(recipient_id: int) -> Any:
    recipient = _taken(recipient_id)
    tenant = db.session.get(Tenant, recipient.tenant_id)
    answered = {
        a.question_id: a.value
        for a in db.session.execute(
            sa.select(PollAnswer).where(PollAnswer.recipient_id == recipient.id)
        ).scalars()
    }
    return render_template(
        "polls/call.html",
        title=_("Poll call"),
        recipient=recipient,
        tenant=tenant,
        answered=answered,
        values=VALUE_WORDS,
        outcomes=OUTCOME_WORDS,
    )


@blp.post("/polls/calls/<int(max=2147483647):recipient_id>")
@page(Permission.POLLS_CALL)
def record_call(recipient_id: int) -> Any:
    recipient = _taken(recipient_id)
    outcome_text = request.form.get("outcome", "")
    if outcome_text not in CallOutcome.__members__.values():
        abort(HTTPStatus.BAD_REQUEST, "outcome")
    outcome = CallOutcome(outcome_text)
    values: dict[int, int] = {}
    if outcome == CallOutcome.ANSWERED:
        for question in recipient.poll.questions:
            given = request.form.get(f"q{question.id}", "")
            if given.isdigit() and int(given) in VALUES:
                values[question.id] = int(given)
        if not values:
            flash(_("Choose at least one answer, or another outcome."), "error")
            return redirect(url_for("polls_page.call", recipient_id=recipient_id))
    answers.record_call(db.session, recipient, g.user, outcome, values, utcnow())
    db.session.commit()
    flash(_("Call recorded: %(outcome)s.", outcome=OUTCOME_WORDS[outcome]), "success")
    return redirect(url_for("polls_page.calls"), HTTPStatus.SEE_OTHER)
