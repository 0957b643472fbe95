"""Users, roles, API tokens and the audit log of staff writes."""
