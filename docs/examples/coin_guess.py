"""A complete new game in under 60 lines: each player secretly flips a coin, then guesses the other's."""

import arena
import arena.agents
from arena.core.env import TextGameEnv
from arena.core.parsing import match_choice


class CoinGuessEnv(TextGameEnv):
    """Two players each flip a private coin; in turn each guesses the other's coin. +1 for a right guess."""

    metadata = {**TextGameEnv.metadata, "name": "coin_guess_v0"}

    def __init__(self, render_mode=None):
        super().__init__(2, render_mode=render_mode)

    def _setup(self):
        self.coins = {a: str(self.rng.choice(["heads", "tails"])) for a in self.possible_agents}
        for agent, coin in self.coins.items():
            self.tell(agent, f"Your coin shows {coin.upper()}.")
        self.guessed = set()
        self.set_turn("player_0")

    def _header(self, agent):
        return "Coin guess: guess the other player's coin with [heads] or [tails]."

    def legal_actions(self, agent):
        return ["[heads]", "[tails]"]

    def _play(self, agent, action):
        match = match_choice(action, self.legal_actions(agent))  # "[heads]", "Heads.", "I say [heads]"
        if match.action is None:
            return match.reason
        guess, other = match.action.strip("[]"), self.next_live_agent(agent)
        right = guess == self.coins[other]
        self.say(f"guesses {guess}: {'right' if right else 'wrong'}.", sender=agent)
        self.reward(agent, 1.0 if right else 0.0)
        self.guessed.add(agent)
        if len(self.guessed) == 2:
            self.end_game("both players guessed.")
        else:
            self.set_turn(other)
        return None

    def secrets(self, agent):
        return [] if self.finished else [self.coins[agent].upper()]


def register_all():
    """The plugin's entry point; importing this module registers nothing (so nothing twice)."""
    arena.register("coin-guess-v0", CoinGuessEnv, min_players=2, max_players=2, description="Guess the coin.")


if __name__ == "__main__":
    register_all()
    result = arena.play("coin-guess-v0", [arena.agents.RandomAgent(0), arena.agents.RandomAgent(1)], seed=0)
    print(result.returns)
