"""Fixtures for every test directory (shared helpers live in ``testkit.py``, next to this)."""
