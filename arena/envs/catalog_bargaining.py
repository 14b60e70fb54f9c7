"""Registrations for the bargaining games (kept apart so each game family owns its own catalogue file)."""

from arena.core.registry import register

register(
    "negotiation-v0",
    "arena.envs.negotiation:NegotiationEnv",
    min_players=2,
    max_players=2,
    kind="mixed",
    description="Deal-or-No-Deal bargaining over items with private values (or mode='trade'); payoff = own utility.",
    agents={
        "scripted": "arena.agents.scripted.bargaining:FairProposer",
        "fair": "arena.agents.scripted.bargaining:FairProposer",
        "hard": "arena.agents.scripted.bargaining:HardBargainer",
    },
    presets="arena.envs.negotiation:PRESETS",
)
register(
    "public-goods-v0",
    "arena.envs.public_goods:PublicGoodsEnv",
    min_players=2,
    max_players=16,
    kind="mixed",
    simultaneous=True,
    description="Repeated linear public-goods game with cheap talk; simultaneous contributions, payoff in tokens.",
    agents={
        "scripted": "arena.agents.scripted.public_goods:ConditionalCooperator",
        "conditional": "arena.agents.scripted.public_goods:ConditionalCooperator",
        "free-rider": "arena.agents.scripted.public_goods:FreeRider",
        "tit-for-tat": "arena.agents.scripted.public_goods:TitForTat",
    },
)
register(
    "sequential-public-goods-v0",
    "arena.envs.sequential_public_goods:SequentialPublicGoodsEnv",
    min_players=2,
    max_players=8,
    kind="mixed",
    description="Sequential public goods after MAC-SPGG: players contribute in turn, seeing their predecessors.",
    agents={
        "scripted": "arena.agents.scripted.public_goods:ConditionalCooperator",
        "conditional": "arena.agents.scripted.public_goods:ConditionalCooperator",
        "free-rider": "arena.agents.scripted.public_goods:FreeRider",
        "tit-for-tat": "arena.agents.scripted.public_goods:TitForTat",
    },
    presets="arena.envs.sequential_public_goods:PRESETS",
)
