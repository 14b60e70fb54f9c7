"""Scripted agents: sensible, deterministic-given-a-seed heuristics per game (registered per env)."""
