"""Triggers, journeys and the scheduler that wakes them."""
