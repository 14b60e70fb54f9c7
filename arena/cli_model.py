"""``arena model``: build the tiny local model and warm-start it by behaviour cloning."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from arena.agents.pretrain import PRETRAIN_STEPS
from arena.agents.warmstart import (
    AGENT_KINDS,
    BATCH_SIZE,
    ENDGAME_WEIGHT,
    LEGAL_WEIGHT,
    MATCHES_PER_ENV,
    MISTAKE_RATE,
    OBSERVATION_WEIGHT,
    STEPS_PER_WEIGHT,
    THREAT_WEIGHT,
    TOPUP_BELOW,
    TOPUPS,
)

model_app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
console = Console()


@model_app.command("init-tiny")
def init_tiny(
    out_dir: Annotated[Path, typer.Argument(help="directory to write the model to", metavar="OUT_DIR")],
    arch: Annotated[str, typer.Option(help="qwen2 or llama")] = "qwen2",
    seed: Annotated[int, typer.Option(help="weight-init seed")] = 0,
    hidden_size: Annotated[int, typer.Option(help="model width")] = 128,
    layers: Annotated[int, typer.Option(help="transformer layers")] = 4,
    pretrain_steps: Annotated[
        int,
        typer.Option(
            help=f"steps of synthetic pretraining on random tokens (copying, picking from the latest list), "
            f"e.g. {PRETRAIN_STEPS}; 0: none"
        ),
    ] = 0,
) -> None:
    """Build a tiny random-weight chat model locally (no download), loadable with from_pretrained; with
    --pretrain-steps, then pretrained on random tokens to copy and to pick from a list (arena.agents.pretrain)."""
    from arena.agents.tiny import build_tiny_model
    from arena.cli_checks import at_least

    at_least(hidden_size, 1, "--hidden-size")
    at_least(layers, 1, "--layers")
    at_least(seed, 0, "--seed")
    at_least(pretrain_steps, 0, "--pretrain-steps")

    path = build_tiny_model(
        out_dir,
        arch=arch,
        seed=seed,
        hidden_size=hidden_size,
        num_layers=layers,
        intermediate_size=3 * hidden_size,
        pretrain_steps=pretrain_steps,
        log=console.print,
    )
    console.print(f"tiny {arch} model written to {path}")


@model_app.command("warmstart")
def warmstart_command(
    model_dir: Annotated[
        Path, typer.Argument(help="model directory (from init-tiny or any causal LM)", metavar="MODEL_DIR")
    ],
    envs: Annotated[
        list[str] | None, typer.Option("--envs", help="game ids to learn from (repeatable) [default: every game]")
    ] = None,
    agents: Annotated[
        str | None,
        typer.Option(
            help="whose play to imitate in every game: random, scripted, mixed (each move scripted or random) or "
            "mixed-expert (mixed play, every example labelled with the scripted move) "
            "[default: mixed for negotiation and the spy games, random elsewhere]"
        ),
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option(
            help=f"optimizer steps [default: {STEPS_PER_WEIGHT} per unit of game weight: 1,820 for every game, "
            "780 for TicTacToe and Kuhn Poker]"
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="examples per optimizer step")] = BATCH_SIZE,
    matches: Annotated[
        int | None,
        typer.Option(help="matches played per game to collect examples [default: per game, 40 to 1000]"),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="write here instead of overwriting MODEL_DIR")] = None,
    seed: Annotated[int, typer.Option(help="seed for play and training")] = 0,
    legal_weight: Annotated[
        float, typer.Option(help="weight of the loss term that moves probability onto legal moves")
    ] = LEGAL_WEIGHT,
    mistake_rate: Annotated[
        float, typer.Option(help="share of decisions that first play an illegal move, to learn the retry")
    ] = MISTAKE_RATE,
    observation_weight: Annotated[
        float, typer.Option(help="weight of the loss on the prompt's last tokens (the board, the legal moves)")
    ] = OBSERVATION_WEIGHT,
    endgame_weight: Annotated[
        float, typer.Option(help="how much more often positions with one or two legal moves are drawn")
    ] = ENDGAME_WEIGHT,
    threat_weight: Annotated[
        float,
        typer.Option(help="how much more often positions with a win to take or a block to make are drawn (TicTacToe)"),
    ] = THREAT_WEIGHT,
    restarts: Annotated[
        int, typer.Option(help="train in this many cycles, each with a fresh optimizer and schedule (warm restarts)")
    ] = 1,
    topups: Annotated[
        int | None,
        typer.Option(
            help="at most this many top-up cycles while a game's held-out legal mass is under "
            f"{TOPUP_BELOW} [default: {TOPUPS} after the default schedule, none with --steps]"
        ),
    ] = None,
    threads: Annotated[
        int | None, typer.Option(help="torch threads (1 is fastest on a CPU shared with other jobs) [default: torch's]")
    ] = None,
    device: Annotated[str, typer.Option(help="where to train: cpu, cuda or cuda:N")] = "cpu",
    scripted_agent: Annotated[
        list[str] | None,
        typer.Option(
            "--scripted-agent",
            help="GAME=AGENT (repeatable): the game's registered agent that makes the scripted moves, e.g. "
            "spy-v0=scripted-naive [default: scripted]",
        ),
    ] = None,
) -> None:
    """Fine-tune on random/scripted play of every game so the model answers in the right format, with legal
    moves, before any RL."""
    from arena.agents.warmstart import warmstart
    from arena.cli_checks import at_least, output_folder
    from arena.core.errors import ArenaError

    output_folder(out, "--out")  # before the collection and the training, not when saving after them
    if agents is not None and agents not in AGENT_KINDS:
        raise ArenaError(f"--agents must be one of {', '.join(AGENT_KINDS)}, got {agents!r}")
    if threads is not None:
        import torch

        at_least(threads, 1, "--threads")
        torch.set_num_threads(threads)
    scripted: dict[str, str] = {}
    for item in scripted_agent or []:
        game, sep, name = (part.strip() for part in item.partition("="))
        if not (sep and game and name):
            raise ArenaError(f"--scripted-agent takes GAME=AGENT, e.g. spy-v0=scripted-naive, got {item!r}")
        scripted[game] = name
    if not (model_dir / "config.json").exists():
        raise ArenaError(f"no model at {model_dir} (make one with `arena model init-tiny {model_dir}`)")
    path = warmstart(
        model_dir,
        out,
        env_ids=tuple(envs) if envs else None,
        agents=agents,
        steps=steps,
        batch_size=batch_size,
        matches_per_env=MATCHES_PER_ENV if matches is None else matches,
        seed=seed,
        legal_weight=legal_weight,
        mistake_rate=mistake_rate,
        observation_weight=observation_weight,
        endgame_weight=endgame_weight,
        threat_weight=threat_weight,
        restarts=restarts,
        topups=topups,
        device=device,
        scripted_agent=scripted or None,
        log=console.print,
    )
    console.print(f"warm-started model written to {path}")
