"""Registrations for the social games (kept apart so each game family owns its own catalogue file)."""

from arena.core.registry import register

register(
    "werewolf-v0",
    "arena.envs.werewolf:WerewolfEnv",
    min_players=4,
    max_players=16,
    kind="competitive",
    description="Werewolf: hidden roles, private wolf channel, seer and doctor, discussion then simultaneous votes.",
    agents={"scripted": "arena.agents.scripted.werewolf:WerewolfScripted"},
    presets="arena.envs.werewolf:PRESETS",
)

register(
    "spy-v0",
    "arena.envs.spy:SpyEnv",
    min_players=3,
    max_players=12,
    kind="competitive",
    description="Who is the Spy: civilians share a word, the spy has a related one; clues, then votes.",
    agents={
        "scripted": "arena.agents.scripted.spy:SpyScripted",
        "scripted-naive": "arena.agents.scripted.spy:SpyNaiveScripted",
    },
)

register(
    "visual-spy-v0",
    "arena.envs.visual_spy:VisualSpyEnv",
    min_players=3,
    max_players=12,
    modalities=("text", "image"),
    kind="competitive",
    description="Visual Who is the Spy: procedurally drawn scenes or charts; the spy's image differs by k edits.",
    agents={"scripted": "arena.agents.scripted.spy:SpyScripted"},
    presets="arena.envs.visual_spy:PRESETS",
)
