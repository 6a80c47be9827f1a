"""Billing Desktop: a back-office for software-subscription billing."""

__version__ = "0.1.0"
