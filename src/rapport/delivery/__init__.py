"""Sending: for now the local mail catcher that the embedded set-up sends to."""
