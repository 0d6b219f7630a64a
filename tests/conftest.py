"""Test-suite options shared by tests/ and properties/ live in the top-level conftest."""
