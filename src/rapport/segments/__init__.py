"""Segments: the rule language, its compiler to SQL, lifecycle and RFM facts, static lists."""
