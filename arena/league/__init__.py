"""Tournaments, ratings and the leaderboard store.

* :mod:`arena.league.store` — SQLite store of finished matches (one row per match, resumable, safe for
  several writers).
* :mod:`arena.league.tournament` — round-robin schedules over seat (or side) assignments and seeds,
  played in parallel processes.
* :mod:`arena.league.ratings` — openskill (Plackett–Luce) live ratings per agent and role, Bradley–Terry
  fits with bootstrap intervals, win-rate matrices.
* :mod:`arena.league.exploitability` — exact exploitability of Kuhn Poker agents that expose action
  probabilities.
* :mod:`arena.league.leaderboard` — leaderboard tables (rich, markdown, csv, json) and plots.
* :mod:`arena.league.cli` — ``eval_command`` and ``leaderboard_command``, registered by ``arena.cli``.

Nothing here is imported by ``import arena``; openskill and matplotlib are imported only when used.
"""
