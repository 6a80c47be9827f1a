"""Pure-Python billing domain: money, periods, proration, tax, cards and policies.

Nothing here imports Qt or SQLAlchemy; modules hold plain functions and frozen
dataclasses so the rules of SPEC §2–§3 can be tested without a GUI or database.
Import the submodule you need (``from billing_desktop.domain.money import Money``).
"""
