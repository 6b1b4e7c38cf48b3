"""Helpers shared by the tests of every kind (events, toy model, renderers, clients)."""
