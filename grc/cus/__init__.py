"""The regulatory indicators of the landlord's *convention d'utilité sociale* (CUS), per
agency and for the whole landlord, per year: lift breakdowns lasting more than 4 hours per
lift, the tenants' satisfaction with the cleanliness of common areas (from the
quality-of-service polls, through ``cleanliness``), and the claims' response performance;
the API, the managers' table and the one-page yearly sheet of an agency.

Owns no table. Reads the models of ``housing`` and ``claims`` (plain rows, streamed); the
episodes of breakdowns are computed without the database (``breakdowns``).
"""
