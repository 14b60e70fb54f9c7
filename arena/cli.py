"""The ``arena`` command: list, play, watch and replay games; model, train, eval and leaderboard.

Errors print as one line (``error: ...``) with exit code 2, never a traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from arena.core.errors import ArenaError

app = typer.Typer(
    name="arena",
    help="Self-play training and evaluation of LLM agents in multi-agent language games.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()

AgentOption = Annotated[
    list[str] | None,
    typer.Option("--agent", "-a", help="seat=spec, e.g. player_0=scripted, player_1=human, llm:DIR[,backend=...]"),
]
KwargOption = Annotated[list[str] | None, typer.Option("--kw", help="env kwarg as key=value (value parsed as JSON)")]


def parse_kwargs(items: list[str] | None) -> dict[str, object]:
    """``key=value`` pairs, values parsed as JSON when they parse, else kept as strings."""
    import json

    kwargs: dict[str, object] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ArenaError(f"--kw expects key=value, got {item!r}")
        try:
            kwargs[key] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key] = value
    return kwargs


def _build_agents(env_id: str, items: list[str] | None, seed: int | None, kwargs: dict[str, object]):
    from arena.agents.specs import make_agent, parse_seat_specs
    from arena.core.registry import make

    seats = make(env_id, **kwargs).possible_agents
    specs = parse_seat_specs(list(items or []), list(seats))
    base = 0 if seed is None else seed
    return {seat: make_agent(spec, env_id, seed=base + 7919 * (i + 1)) for i, (seat, spec) in enumerate(specs.items())}


@app.command("list")
def list_command() -> None:
    """Show every registered game."""
    from arena.core.registry import list_envs

    table = Table(title="arena games")
    table.add_column("id", no_wrap=True)
    for column in ("players", "kind", "modalities", "agents", "description"):
        table.add_column(column, overflow="fold")
    for env_spec in list_envs():
        players = (
            str(env_spec.min_players)
            if env_spec.min_players == env_spec.max_players
            else f"{env_spec.min_players}-{env_spec.max_players}"
        )
        agents = ", ".join(["random", *env_spec.agents])
        table.add_row(env_spec.id, players, env_spec.kind, "+".join(env_spec.modalities), agents, env_spec.description)
    console.print(table)


@app.command()
def play(
    env_id: Annotated[str, typer.Argument(help="game id, see `arena list`")],
    agent: AgentOption = None,
    seed: Annotated[int | None, typer.Option(help="episode seed")] = None,
    kw: KwargOption = None,
    save: Annotated[Path | None, typer.Option(help="write the transcript to this JSONL file")] = None,
    as_player: Annotated[str | None, typer.Option("--as", help="show only what this player sees")] = None,
) -> None:
    """Play one match (seats default to random; use player_k=human to play yourself)."""
    from arena.view.live import watch as watch_match

    kwargs = parse_kwargs(kw)
    agents = _build_agents(env_id, agent, seed, kwargs)
    humans = [seat for seat, a in agents.items() if getattr(a, "name", "") == "human"]
    viewer = as_player or (humans[0] if len(humans) == 1 else None)
    result = watch_match(
        env_id, agents, seed=seed, as_player=viewer, console=console, env_kwargs=kwargs, reveal=viewer is None
    )
    if save is not None:
        console.print(f"transcript saved to {result.transcript.save(save)}")


@app.command()
def watch(
    env_id: Annotated[str, typer.Argument(help="game id, see `arena list`")],
    agent: AgentOption = None,
    seed: Annotated[int | None, typer.Option(help="episode seed")] = 0,
    delay: Annotated[float, typer.Option(help="seconds to pause after each move")] = 0.0,
    kw: KwargOption = None,
    as_player: Annotated[str | None, typer.Option("--as", help="show only what this player sees")] = None,
    save: Annotated[Path | None, typer.Option(help="write the transcript to this JSONL file")] = None,
    reveal: Annotated[bool, typer.Option("--reveal", help="spectator sees every role and private message")] = False,
) -> None:
    """Watch a match between non-human agents (seats default to the game's scripted agent)."""
    from arena.core.registry import spec
    from arena.view.live import watch as watch_match

    env_spec = spec(env_id)
    default = "scripted" if "scripted" in env_spec.agents else "random"
    kwargs = parse_kwargs(kw)
    items = list(agent or [])
    seats = _build_agents(env_id, items, seed, kwargs)
    named = {i.partition("=")[0] for i in items if "=" in i}
    if not items:
        seats = _build_agents(env_id, [f"{s}={default}" for s in seats], seed, kwargs)
    elif named:
        fill = [f"{s}={default}" for s in seats if s not in named]
        seats = _build_agents(env_id, items + fill, seed, kwargs)
    if any(getattr(a, "name", "") == "human" for a in seats.values()):
        raise ArenaError("watch is for non-human agents; use `arena play` to take a seat")
    result = watch_match(
        env_id, seats, seed=seed, delay=delay, as_player=as_player, console=console, env_kwargs=kwargs, reveal=reveal
    )
    if save is not None:
        console.print(f"transcript saved to {result.transcript.save(save)}")


@app.command()
def replay(
    path: Annotated[Path, typer.Argument(help="a transcript JSONL file")],
    as_player: Annotated[str | None, typer.Option("--as", help="show only what this player saw")] = None,
    delay: Annotated[float, typer.Option(help="seconds between messages")] = 0.0,
) -> None:
    """Replay a saved transcript."""
    from arena.view.live import replay as replay_file

    if not path.exists():
        raise ArenaError(f"no such file: {path}")
    replay_file(str(path), as_player=as_player, console=console, delay=delay)


# Sub-commands owned by other modules are mounted when present (each keeps its imports lazy).
_SUBAPPS = {
    "arena.cli_model": ("model_app", "model", "Build and warm-start policy models."),
}
_COMMANDS = {
    "arena.trainers.cli": ("train",),
    "arena.league.cli": ("eval_command", "leaderboard_command"),
}


def _mount() -> None:
    for module_name, (attr, name, help_text) in _SUBAPPS.items():
        if importlib.util.find_spec(module_name) is not None:
            app.add_typer(getattr(importlib.import_module(module_name), attr), name=name, help=help_text)
    for module_name, attrs in _COMMANDS.items():
        try:
            found = importlib.util.find_spec(module_name) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            module = importlib.import_module(module_name)
            for attr in attrs:
                function = getattr(module, attr)
                app.command(getattr(function, "command_name", attr.removesuffix("_command")))(function)


_mount()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning every error into one line on stderr."""
    err = Console(stderr=True)
    try:
        app(args=argv, standalone_mode=False)
    except ArenaError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 2
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted", markup=False)
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except Exception as exc:
        import click

        if isinstance(exc, click.ClickException):
            exc.show(file=sys.stderr)
            return exc.exit_code
        err.print(f"error: {type(exc).__name__}: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
