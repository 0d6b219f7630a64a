"""The claim cards: one module per claim id (``zascheck.engine`` loads them)."""
