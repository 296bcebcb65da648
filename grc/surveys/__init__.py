"""Hot satisfaction surveys: the survey planned when a claim is resolved (once per
resolution), sent after a delay outside quiet hours on the tenant's channel (one message for
the claims of a tenant resolved the same day), reminded once, expired; the answers by SMS
(read by ``contractors.survey_answers``) and by the signed one-click e-mail links, each
kept, the first one counting; an answer saying the work was not done reopens the claim.

May import: the app's shared modules, ``grc.claims`` (the claim, its timeline, its
operations to reopen it, the staff alerts), ``grc.contracts`` (the new work order after a
"not done"), ``grc.messaging`` (the outbox), ``grc.people`` and ``contractors`` (reading
an SMS answer). ``grc.claims`` calls only ``planning`` (a resolution plans the survey, a
reopening or a cancellation withdraws it); ``grc.messaging`` hands an SMS answer to
``answers``.
"""
