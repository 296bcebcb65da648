"""Quality-of-service polls: a manager asks one to eight questions of a random sample of
tenants stratified by agency (at most one poll per tenant per quarter, a unique key), by SMS
one question at a time, by e-mail on one signed page, or by an agent's call; the results per
building, residence and agency with the margin of error and the change since the previous
poll of the same theme (``results.question_results``, the one computation others call).

May import: the app's shared modules, ``grc.housing`` and ``grc.people`` (who lives where),
``grc.messaging`` (the outbox, quiet hours, message templates) and ``grc.claims.notify``
(dates in words). ``grc.messaging.inbound_sms`` hands a poll's SMS answer to ``answers``
(it decides between a hot survey and a poll question: the message sent last wins).
"""
