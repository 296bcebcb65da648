"""How each report is presented, on its page and in its export: its title and summary, its
groupings, its chart, and the words of its columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from grc.reports.reports import AGE_BUCKETS, GROUPINGS


@dataclass(frozen=True)
class Chart:
    kind: str  # bar, line
    x: str  # the column along the axis
    series: tuple[str, ...]  # the columns drawn (or, with ``split``, the one value drawn)
    split: str | None = None  # a column whose values become one series each
    stacked: bool = False
    percent: bool = False


@dataclass(frozen=True)
class Page:
    title: Any
    summary: Any
    groupings: tuple[str, ...]  # the report's own (reports.GROUPINGS), or none
    chart: Chart | None
    period: bool = True  # the backlog and overdue list are of today
    # A table's total as its last row. The overdue list's total counts every overdue claim,
    # beyond the rows listed: its page says it in a sentence, not as a row of figures.
    total_row: bool = True


PAGES: dict[str, Page] = {
    "volumes": Page(
        _l("Volumes"),
        _l(
            "Claims received, and further calls recorded on a claim already open, per period"
            " and group."
        ),
        GROUPINGS["volumes"],
        Chart("bar", "bucket", ("claims",), split="label", stacked=True),
    ),
    "sla": Page(
        _l("SLA compliance"),
        _l(
            "Responses and resolutions on time, and their handling time in the policy's"
            " hours, paused time excluded."
        ),
        GROUPINGS["sla"],
        Chart(
            "bar",
            "label",
            ("response_on_time_share", "resolution_on_time_share"),
            percent=True,
        ),
    ),
    "backlog": Page(
        _l("Open backlog"),
        _l("The claims open today, by age since receipt."),
        GROUPINGS["backlog"],
        Chart("bar", "label", AGE_BUCKETS, stacked=True),
        period=False,
    ),
    "overdue": Page(
        _l("Overdue claims"),
        _l("Open claims past their resolution deadline, not waiting for the tenant."),
        (),
        None,
        period=False,
        total_row=False,
    ),
    "calls": Page(
        _l("Calls received"),
        _l("Calls on the call centre's number: answered, abandoned, time with an agent."),
        (),
        Chart("bar", "bucket", ("answered", "abandoned"), stacked=True),
    ),
    "calls-by-agent": Page(
        _l("Calls per agent"),
        _l("The calls each agent took, and the average time spent with the caller."),
        (),
        Chart("bar", "label", ("answered",)),
    ),
    "first-contact": Page(
        _l("First-contact resolution"),
        _l("Claims resolved during the first contact, among the claims received."),
        GROUPINGS["first-contact"],
        Chart("bar", "label", ("rate",), percent=True),
    ),
    "satisfaction": Page(
        _l("Satisfaction"),
        _l("Answers to the satisfaction surveys sent after each resolution."),
        GROUPINGS["satisfaction"],
        Chart("bar", "label", ("mean_score",)),
    ),
    "ratings": Page(
        _l("Supplier ratings trend"),
        _l("Each contractor's overall rating for the last four quarters."),
        (),
        Chart("line", "quarter", ("score",), split="label"),
    ),
}

COLUMN_WORDS: dict[str, Any] = {
    "bucket": _l("Period"),
    "label": _l("Group"),
    "claims": _l("Claims"),
    "further_contacts": _l("Further calls"),
    "contacts": _l("Contacts"),
    "responses_measured": _l("Responses measured"),
    "responses_on_time": _l("Responses on time"),
    "response_on_time_share": _l("Response on time"),
    "response_median_hours": _l("Response, median (h)"),
    "response_p90_hours": _l("Response, 90th percentile (h)"),
    "resolutions_measured": _l("Resolutions measured"),
    "resolutions_on_time": _l("Resolutions on time"),
    "resolution_on_time_share": _l("Resolution on time"),
    "resolution_median_hours": _l("Resolution, median (h)"),
    "resolution_p90_hours": _l("Resolution, 90th percentile (h)"),
    "under_2_days": _l("Under 2 days"),
    "2_to_7_days": _l("2 to 7 days"),
    "8_to_30_days": _l("8 to 30 days"),
    "over_30_days": _l("Over 30 days"),
    "open": _l("Open"),
    "overdue": _l("Overdue"),
    "reference": _l("Claim"),
    "category": _l("Category"),
    "unit": _l("Treatment unit"),
    "resolution_due": _l("Resolution deadline"),
    "hours_late": _l("Hours late"),
    "received": _l("Calls received"),
    "answered": _l("Calls answered"),
    "abandoned": _l("Calls abandoned"),
    "answer_rate": _l("Answer rate"),
    "average_handling_seconds": _l("Average time with an agent (s)"),
    "resolved_at_first_contact": _l("Resolved at first contact"),
    "rate": _l("Rate"),
    "answers": _l("Answers"),
    "scores": _l("Scores"),
    "mean_score": _l("Mean score (1 to 5)"),
    "satisfied_share": _l("Satisfied (4 or 5)"),
    "not_done": _l("Work not done"),
    "score": _l("Score"),
    "grade": _l("Grade"),
}
PERCENT_COLUMNS = {
    "response_on_time_share",
    "resolution_on_time_share",
    "answer_rate",
    "rate",
    "satisfied_share",
}
HIDDEN_COLUMNS = {"code", "category_code", "unit_code"}
GROUPING_WORDS: dict[str, Any] = {
    "channel": _l("Channel"),
    "category": _l("Category"),
    "domain": _l("Domain"),
    "unit": _l("Treatment unit"),
    "agency": _l("Agency"),
    "contractor": _l("Contractor"),
    "agent": _l("Agent"),
}
BUCKET_WORDS: dict[str, Any] = {"day": _l("Day"), "week": _l("Week"), "month": _l("Month")}
CHANNEL_WORDS: dict[str, Any] = {
    "phone": _l("Phone"),
    "web": _l("Web"),
    "app": _l("App"),
    "email": _l("E-mail"),
    "letter": _l("Letter"),
    "desk": _l("Desk"),
}


def column_word(column: str) -> str:
    """A column's heading: its word, with the quarter for a rating's score or grade."""
    if column.startswith(("score_", "grade_")):
        kind, quarter = column.split("_", 1)
        return f"{COLUMN_WORDS[kind]} {quarter}"
    return str(COLUMN_WORDS.get(column, column))
