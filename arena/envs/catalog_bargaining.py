"""Registrations for the bargaining games (kept apart so each game family owns its own catalogue file)."""
