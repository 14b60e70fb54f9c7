"""The ``arena`` command: list, play, watch and replay games; model, train, eval, leaderboard and plot.

Exit codes: 0 success (``-h``, ``--version`` and a bare ``arena`` print and exit 0); 2 a usage error (the
usage line, then ``error: ...`` naming the option) or bad input, always checked before any work starts;
1 a run that went wrong (e.g. some ``arena eval`` matches failed); 130 interrupted (Ctrl-C), after one
line saying what was stored. Never a traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from arena.cli_checks import Interrupted, at_least, input_file, output_file
from arena.core.errors import ArenaError

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="arena",
    help="Self-play training and evaluation of LLM agents in multi-agent language games.",
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings=HELP_OPTIONS,
    rich_markup_mode=None,
)
console = Console()


def _version(value: bool) -> None:
    if value:
        from arena import __version__

        print(f"arena {__version__}")
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Self-play training and evaluation of LLM agents in multi-agent language games."""
    if ctx.invoked_subcommand is None:  # a bare `arena` is a request for help, not an error
        print(ctx.get_help())
        raise typer.Exit(0)


EnvArgument = Annotated[str, typer.Argument(help="game id, see `arena list`", metavar="ENV_ID")]
SaveOption = Annotated[Path | None, typer.Option(help="write the transcript to this JSONL file")]
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


def _seat_specs(env_id: str, items: list[str], kwargs: dict[str, object], default: str = "random") -> dict[str, str]:
    """Build the game once (checks the id and ``--kw``), then map every seat to a checked agent spec;
    seats not named get ``default``. Nothing is loaded yet."""
    from arena.agents.specs import check_agent_spec, parse_seat_specs
    from arena.core.registry import make

    seats = list(make(env_id, **kwargs).possible_agents)
    specs = parse_seat_specs(items, seats, default=default)
    for spec_text in dict.fromkeys(specs.values()):
        check_agent_spec(spec_text, env_id)
    return specs


def _build_agents(env_id: str, specs: dict[str, str], seed: int | None) -> dict:
    from arena.agents.specs import make_agent

    base = 0 if seed is None else seed
    return {seat: make_agent(spec, env_id, seed=base + 7919 * (i + 1)) for i, (seat, spec) in enumerate(specs.items())}


def _check_viewer(specs: dict[str, str], as_player: str | None) -> None:
    if as_player is not None and as_player not in specs:
        raise ArenaError(f"--as {as_player}: unknown player; players are {', '.join(specs)}")


@app.command("list")
def list_command() -> None:
    """Show every registered game (on a narrow terminal, kind, modalities and agents go under the
    description, so no word is broken)."""
    from arena.core.registry import list_envs

    wide = console.width >= 120
    table = Table(title="arena games")
    table.add_column("id", no_wrap=True)
    table.add_column("players", no_wrap=True)
    if wide:
        for name in ("kind", "modalities", "agents"):
            table.add_column(name, no_wrap=name != "agents")
    table.add_column("description", ratio=1)
    for env_spec in list_envs():
        players = (
            str(env_spec.min_players)
            if env_spec.min_players == env_spec.max_players
            else f"{env_spec.min_players}-{env_spec.max_players}"
        )
        agents = ", ".join(["random", *env_spec.agents])
        modalities = "+".join(env_spec.modalities)
        if wide:
            table.add_row(
                Text(env_spec.id), players, env_spec.kind, modalities, Text(agents), Text(env_spec.description)
            )
        else:
            about = Text(env_spec.description)
            about.append(f"\n{env_spec.kind} · {modalities} · agents: {agents}", style="dim")
            table.add_row(Text(env_spec.id), players, about)
    console.print(table)


def _moves_played(env: Any) -> int:
    """How many moves the match on ``env`` has recorded so far."""
    return sum(1 for e in env.unwrapped.transcript.events if e.get("event") == "action")


def _interrupted(env: Any, save: Path | None, why: str) -> Interrupted:
    """The one-line summary of an interrupted match: how far it got and where a partial transcript went."""
    raw = env.unwrapped
    moves = _moves_played(env)
    if save is None:
        return Interrupted(f"{why}after {moves} moves; nothing was stored (--save keeps a transcript)")
    return Interrupted(f"{why}after {moves} moves; partial transcript saved to {raw.transcript.save(save)}")


def _run_match(
    env_id: str, specs: dict[str, str], seed: int | None, kwargs: dict[str, object], save: Path | None, **view
):
    """Build the agents and the game, then play and show it; Ctrl-C or end of input stops it with a summary."""
    from arena.core.registry import make
    from arena.view.live import watch as watch_match

    agents = _build_agents(env_id, specs, seed)
    env = make(env_id, **kwargs)
    try:
        result = watch_match(env, agents, seed=seed, console=console, **view)
    except KeyboardInterrupt as stop:
        why = f"{stop.args[0]} " if stop.args and isinstance(stop.args[0], str) else ""
        raise _interrupted(env, save, why) from None
    except ArenaError as failure:  # e.g. a model server that went away mid-game: keep what was played
        moves = _moves_played(env)
        if save is None or not moves:
            raise
        path = env.unwrapped.transcript.save(save)
        raise ArenaError(f"{failure} (after {moves} moves; partial transcript saved to {path})") from None
    if save is not None:
        console.print(f"transcript saved to {result.transcript.save(save)}", markup=False, highlight=False)


@app.command()
def play(
    env_id: EnvArgument,
    agent: AgentOption = None,
    seed: Annotated[int | None, typer.Option(help="episode seed")] = None,
    kw: KwargOption = None,
    save: SaveOption = None,
    as_player: Annotated[str | None, typer.Option("--as", help="show only what this player sees")] = None,
) -> None:
    """Play one match (seats default to random; use player_k=human to play yourself)."""
    if seed is not None:
        at_least(seed, 0, "--seed")
    kwargs = parse_kwargs(kw)
    specs = _seat_specs(env_id, list(agent or []), kwargs)
    _check_viewer(specs, as_player)
    save = output_file(save, "--save")
    humans = [seat for seat, s in specs.items() if s.strip() == "human"]
    viewer = as_player or (humans[0] if len(humans) == 1 else None)
    _run_match(env_id, specs, seed, kwargs, save, as_player=viewer, reveal=viewer is None)


@app.command()
def watch(
    env_id: EnvArgument,
    agent: AgentOption = None,
    seed: Annotated[int | None, typer.Option(help="episode seed")] = 0,
    delay: Annotated[float, typer.Option(help="seconds to pause after each move")] = 0.0,
    kw: KwargOption = None,
    as_player: Annotated[str | None, typer.Option("--as", help="show only what this player sees")] = None,
    save: SaveOption = None,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="spectator sees every role, private message, image and reasoning")
    ] = False,
) -> None:
    """Watch a match between non-human agents (seats default to the game's scripted agent)."""
    from arena.core.registry import spec

    at_least(delay, 0, "--delay")
    if seed is not None:
        at_least(seed, 0, "--seed")
    env_spec = spec(env_id)
    default = "scripted" if "scripted" in env_spec.agents else "random"
    kwargs = parse_kwargs(kw)
    specs = _seat_specs(env_id, list(agent or []), kwargs, default=default)
    if any(s.strip() == "human" for s in specs.values()):
        raise ArenaError("watch is for non-human agents; use `arena play` to take a seat")
    _check_viewer(specs, as_player)
    save = output_file(save, "--save")
    _run_match(env_id, specs, seed, kwargs, save, delay=delay, as_player=as_player, reveal=reveal)


@app.command()
def replay(
    path: Annotated[Path, typer.Argument(help="a transcript JSONL file", metavar="FILE")],
    as_player: Annotated[str | None, typer.Option("--as", help="show only what this player saw")] = None,
    delay: Annotated[float, typer.Option(help="seconds between messages")] = 0.0,
) -> None:
    """Replay a saved transcript (everything, reasoning included; --as shows one player's view)."""
    from arena.view.live import replay as replay_file

    at_least(delay, 0, "--delay")
    replay_file(str(input_file(path, "a transcript")), as_player=as_player, console=console, delay=delay)


@app.command()
def plot(
    run_dir: Annotated[Path, typer.Argument(help="a training run's folder (holds metrics.jsonl)", metavar="RUN_DIR")],
    out: Annotated[Path | None, typer.Option(help="PNG to write [default: RUN_DIR/curves.png]")] = None,
    table: Annotated[bool, typer.Option("--table", help="also print the evaluations as markdown tables")] = False,
) -> None:
    """Draw a training run's learning curves (exploitability, win rates, training signals) as a PNG."""
    from arena.view.curves import markdown_table, plot_run, read_metrics

    rows = read_metrics(run_dir)
    out = output_file(out, "--out")
    if table:
        print(markdown_table(rows))
    console.print(f"learning curves saved to {plot_run(run_dir, out)}", markup=False, highlight=False, soft_wrap=True)


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
    """Entry point: run the CLI, turning every error into one line on stderr (see the module docstring)."""
    err = Console(stderr=True)
    try:
        code = app(args=argv, prog_name="arena", standalone_mode=False)
    except ArenaError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 2
    except Interrupted as exc:
        err.print(f"interrupted: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 130
    except (typer.Abort, KeyboardInterrupt):  # Ctrl-C outside a command's own handling
        code = 130
    except typer.Exit as exc:
        return exc.exit_code
    except Exception as exc:
        if _is_usage_error(exc):
            return _show_usage_error(exc)
        if _is_click_exception(exc):  # click's own Abort/Exit-like errors (e.g. a file it could not open)
            err.print(f"error: {exc.format_message()}", markup=False, highlight=False, soft_wrap=True)
            return int(exc.exit_code)
        err.print(f"error: {type(exc).__name__}: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 1
    if code == 130:  # newer typer turns a Ctrl-C no command reported on into a returned 130
        err.print("interrupted", markup=False)
    return code if isinstance(code, int) else 0


def _is_click_exception(exc: BaseException) -> bool:
    """click's exceptions, from click itself or the copy newer typer versions vendor (duck-typed)."""
    return isinstance(getattr(exc, "exit_code", None), int) and callable(getattr(exc, "format_message", None))


def _is_usage_error(exc: BaseException) -> bool:
    return _is_click_exception(exc) and hasattr(exc, "ctx") and getattr(exc, "exit_code", None) == 2


def _show_usage_error(exc: Any) -> int:
    """click's usage-error layout: usage line, where to get help, then ``error:`` naming the option. A
    command group given no sub-command prints its help and succeeds."""
    ctx = exc.ctx
    if type(exc).__name__ == "NoArgsIsHelpError":
        print(ctx.get_help() if ctx is not None else exc.format_message())
        return 0
    if ctx is not None:
        print(ctx.get_usage(), file=sys.stderr)
        print(f"Try '{ctx.command_path} -h' for help.", file=sys.stderr)
    print(f"error: {exc.format_message()}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
