"""Shared measurements, one floor below the claim cards: what several cards use
(flow decay, GD envelopes, Lemma constants, sweeps, bisection, escape statistics).
No module here imports a card."""
