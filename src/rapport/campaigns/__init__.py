"""Campaigns: an audience, a template version, a schedule and caps, moved through a state
machine from draft to sent."""
