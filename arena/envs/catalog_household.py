"""Registrations for the household family (ALFWorld-like embodied text worlds)."""

from arena.core.registry import register

register(
    "household-v0",
    "arena.envs.household.env:HouseholdEnv",
    min_players=1,
    max_players=2,
    kind="cooperative",
    description="ALFWorld-like household: six task types, admissible commands, 50 steps; 1 agent or 2 cooperating.",
    agents={
        "scripted": "arena.agents.scripted.household:HouseholdExpert",
        "expert": "arena.agents.scripted.household:HouseholdExpert",
    },
)
