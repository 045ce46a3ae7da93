"""Widgets of the mock desktop (retained tree, painted incrementally)."""
