"""Rapport: self-hosted customer email for businesses and non-profits."""

__version__ = "0.1.0"
