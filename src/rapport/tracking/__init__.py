"""Tracking: what recipients do with an email: one-click unsubscribe (opens, clicks, the
preference centre and conversions follow)."""
