"""Managers' reports: volumes, SLA compliance, backlog, call centre and satisfaction, each
a table of named columns computed by SQL aggregates over the period and filters chosen."""
