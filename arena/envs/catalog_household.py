"""Registrations for the household games (kept apart so each game family owns its own catalogue file)."""
