"""Built-in games. Each module's docstring is its rules; ``docs/envs/<game>.md`` has the long form.

Registrations are lazy (entry-point strings), so importing this package imports no game module.
"""

from arena.core.registry import register
from arena.envs import catalog_bargaining, catalog_household, catalog_social  # noqa: F401

register(
    "tictactoe-v0",
    "arena.envs.tictactoe:TicTacToeEnv",
    min_players=2,
    max_players=2,
    kind="competitive",
    description="TicTacToe on a 3x3 board; perfect information.",
    agents={
        "scripted": "arena.agents.scripted.tictactoe:TicTacToeScripted",
        "opportunist": "arena.agents.scripted.tictactoe:TicTacToeOpportunist",
    },
)
register(
    "kuhn-poker-v0",
    "arena.envs.kuhn_poker:KuhnPokerEnv",
    min_players=2,
    max_players=2,
    kind="competitive",
    description="Kuhn Poker (J<Q<K), chips paid per hand; exact exploitability is computable.",
    agents={"scripted": "arena.agents.scripted.kuhn_poker:KuhnNashAgent"},
)
