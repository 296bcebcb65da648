"""The contractor channel as a library: turns bytes and texts into readings.

Owns MIME parsing of what SendGrid Inbound Parse posts (``mail``, ``posts``), reading a
contractor's reply (``reading``: acknowledged, scheduled with its visit, done, cannot
intervene, auto-reply, or unclear), reading French dates and times (``_dates``) and
reading a tenant's SMS answer to a satisfaction survey (``survey_answers``: a score from 1
to 5, work not done, STOP/START, or unclear).

May import the standard library and its own third-party parsers (nh3, quotequail) only:
nothing from ``grc``, ``workers`` or ``notifications`` (a test walks its imports), so it
could be published on its own. What to do with a reading is ``grc.inbound``'s business.
"""
