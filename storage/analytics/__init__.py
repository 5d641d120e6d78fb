"""Analytics queries: one module per question, each returning small frozen dataclasses.

Every query reads the rollups (``usage_daily`` and its coarser companions ``usage_person_daily``,
``usage_person_monthly``, ``usage_model_daily``: the coarsest with what it needs; see ``common``) and the
bookkeeping tables, never the raw usage facts, and takes its date range as plain inclusive UTC provider
days (``start``, ``end``). Turning "30d" or "this month" into dates, and the reporting timezone, belong to
the caller.
"""
