"""The domain layer: the campaign's rules and analyses, as plain functions over query results.

Loading files by the intake contract (``ingest``), the rules each defined once (``rules`` and
the macros of ``caselib/sql/rules/campaign.sql``), closure flags and the audit, geography,
campaign response, management figures, and the synthetic campaign (``sample``, ``demo``).
It reads through :mod:`caselib.store` and imports nothing from :mod:`caselib.presentation`.
"""
