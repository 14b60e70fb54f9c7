"""A stand-in for a third-party package that registers a game through the ``arena.envs`` entry point."""

CALLS: list[str] = []


def register_plugin() -> None:
    import arena

    arena.register("plugin-ttt-v0", "arena.envs.tictactoe:TicTacToeEnv", override=True)
    CALLS.append("registered")
