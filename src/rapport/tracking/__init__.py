"""Tracking: opens and clicks (signed pixel and redirects, machine and scanner detection,
written in batches), one-click unsubscribe, and the attribution of orders to emails."""
