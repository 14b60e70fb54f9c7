"""Does a visual-spy policy read its image? Its replies scored with the turn's image and with a flat grey one.

Usage::

    python3 scripts/image_use.py --model runs/cpu-visual-spy/warmstart
    python3 scripts/image_use.py --model DIR --games 8 --preset cpu-visual-spy

The policy (the preset's agent settings: sampling at its temperature, votes constrained where the preset
constrains them) plays every seat of ``--games`` visual-spy games with the preset's game settings. Each of
its turns is then scored again with the prompt's image replaced by a flat grey picture, the replacement that
``blank_images: true`` makes: for clues the mean absolute change of the reply's token log-probabilities,
for constrained votes the total-variation distance between the vote distributions. Zero means the
image changes nothing the policy does: a ``blank_images`` comparison run would then only measure noise, and
the warm start, not training, is what has to teach the model to look. Results: ``docs/results.md``
(visual spy).
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ENV_ID = "visual-spy-v0"


def grey(image: np.ndarray) -> np.ndarray:
    """The flat grey picture that ``blank_images`` shows in place of ``image``."""
    from arena.agents.llm import blank_image

    return blank_image(image)


def policy_turns(backend: Any, config: Any, games: int, seed: int = 0) -> list[Any]:
    """The policy's turns (the trainer's :class:`~arena.trainers.episodes.Turn`) in ``games`` games where it
    holds every seat."""
    import arena
    from arena.agents.scheduler import play_many
    from arena.trainers.episodes import episode_from_outcome
    from arena.trainers.rollout import policy_agent

    agent = policy_agent(backend, config, ENV_ID, seed=seed)
    specs = []
    for game in range(games):
        env = arena.make(ENV_ID, **config.env_kwargs(ENV_ID))
        specs.append((env, {seat: agent for seat in env.possible_agents}, seed + game))
    return [t for o in play_many(specs) for t in episode_from_outcome(o, agent.name, "probe", "self").turns]


def image_dependence(
    backend: Any, turns: Sequence[Any], replace: Callable[[np.ndarray], np.ndarray] = grey
) -> dict[str, float]:
    """How much the policy's turns change when each image is ``replace``d: ``clue_dlogp`` (mean absolute change
    of a generated reply's token log-probabilities, over ``clue_tokens`` tokens) and ``vote_tv`` (mean
    total-variation distance between constrained vote distributions, over ``votes`` turns), with each one's
    maximum."""
    import torch

    from arena.agents.logits import choice_logprobs
    from arena.trainers.learner import completion_logprobs

    def replaced(batch: Sequence[Any]) -> list[Any]:
        out = []
        for turn in batch:
            twin = copy.copy(turn)
            twin.images = [replace(image) for image in turn.images]
            out.append(twin)
        return out

    pad = backend.tokenizer.pad_token_id
    free = [t for t in turns if t.alternatives is None and t.images and t.completion_ids]
    votes = [t for t in turns if t.alternatives is not None and t.images]
    result: dict[str, float] = {"clue_tokens": 0.0, "votes": float(len(votes))}
    with torch.no_grad():
        if free:
            seen, mask = completion_logprobs(backend.model, free, pad, backend.processor)
            other, _ = completion_logprobs(backend.model, replaced(free), pad, backend.processor)
            change = (seen - other).abs()[mask.bool()]
            result.update(
                clue_tokens=float(change.numel()), clue_dlogp=float(change.mean()), clue_dlogp_max=float(change.max())
            )
        if votes:

            def distribution(batch: Sequence[Any]) -> Any:
                prompts, replies = [t.prompt_ids for t in batch], [t.alternatives for t in batch]
                images = [t.images for t in batch]
                scores = choice_logprobs(
                    backend.model, prompts, replies, pad, images=images, processor=backend.processor
                )
                return torch.softmax(scores, -1)

            seen, other = distribution(votes), distribution(replaced(votes))
            tv = 0.5 * (seen - other).abs().sum(-1)
            result.update(vote_tv=float(tv.mean()), vote_tv_max=float(tv.max()))
    return result


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a vision-language model directory")
    parser.add_argument("--preset", default="cpu-visual-spy", help="the training preset whose settings to use")
    parser.add_argument("--games", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    import torch

    from arena.agents.backends.transformers_backend import TransformersBackend
    from arena.trainers.config import load_config

    torch.set_num_threads(args.threads)
    config = load_config(args.preset, overrides=["blank_images=false"])
    backend = TransformersBackend(args.model)
    result = image_dependence(backend, policy_turns(backend, config, args.games, args.seed))
    for key, value in result.items():
        print(f"{key}: {value:.4g}")
    return result


if __name__ == "__main__":
    main()
