"""Registrations for the social games (kept apart so each game family owns its own catalogue file)."""
