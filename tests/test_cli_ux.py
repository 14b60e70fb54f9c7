"""The CLI as a Unix tool: help and version, usage errors, input checked before any work, Ctrl-C and
end of input, partial failures and pool workers. Each case checks the exit code and the first line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arena.agents.base import BaseAgent
from arena.cli import main
from arena.league.store import Store
from arena.league.tournament import parse_entrants, plan_matches

ROOT = Path(__file__).resolve().parent.parent


def run_cli(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def first(text: str) -> str:
    """The first line, with the braces newer typer puts around required arguments (``{ENV_ID}``) dropped."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line.replace("{", "").replace("}", "") if line.startswith("Usage:") else line


@pytest.mark.parametrize(
    "args,line",
    [
        (("-h",), "Usage: arena [OPTIONS] COMMAND [ARGS]..."),
        (("--help",), "Usage: arena [OPTIONS] COMMAND [ARGS]..."),
        ((), "Usage: arena [OPTIONS] COMMAND [ARGS]..."),
        (("--version",), "arena 0.1.0"),
        (("watch", "-h"), "Usage: arena watch [OPTIONS] ENV_ID"),
        (("model",), "Usage: arena model [OPTIONS] COMMAND [ARGS]..."),
    ],
)
def test_help_and_version_exit_0(capsys, args, line):
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    assert first(out) == line and not err


@pytest.mark.parametrize(
    "args,usage,message",
    [
        (("watch",), "Usage: arena watch [OPTIONS] ENV_ID", "Missing argument 'ENV_ID'"),
        (("eval", "kuhn-poker-v0", "--workers", "x"), "Usage: arena eval [OPTIONS] ENV_ID", "'--workers'"),
        (("list", "--bogus"), "Usage: arena list [OPTIONS]", "No such option: --bogus"),
        (("nosuch",), "Usage: arena [OPTIONS] COMMAND [ARGS]...", "No such command"),
    ],
)
def test_usage_errors_show_usage_and_name_the_option(capsys, args, usage, message):
    code, out, err = run_cli(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2 and not out
    assert first(err) == usage and lines[1].startswith("Try 'arena") and "-h" in lines[1]
    assert lines[-1].startswith("error: ") and message in lines[-1] and "Traceback" not in err


@pytest.mark.parametrize(
    "args,needle",
    [
        (("watch", "tictactoe-v0", "--agent", "player_0"), "--agent player_0 needs a spec: player_0=SPEC"),
        (("watch", "tictactoe-v0", "-a", "player_0=random", "-a", "player_0=scripted"), "seat player_0 is given twice"),
        (("play", "tictactoe-v0", "--agent", "p9=random"), "unknown seat 'p9'"),
        (("play", "tictactoe-v0", "--agent", "player_0=llm:/no/such/model"), "no model directory at /no/such/model"),
        (("play", "tictactoe-v0", "--agent", "player_0=llm:/x,foo=bar"), "unknown option(s) foo"),
        (("play", "tictactoe-v0", "--agent", "player_0=llm:/x,backend=nope"), "unknown backend 'nope'"),
        (("watch", "tictactoe-v0", "--save", "/proc/x.jsonl"), "--save /proc/x.jsonl: cannot write there"),
        (("watch", "tictactoe-v0", "--as", "player_9"), "--as player_9: unknown player"),
        (("watch", "tictactoe-v0", "--delay", "-1"), "--delay must be at least 0"),
        (("play", "kuhn-poker-v0", "--seed", "-5"), "--seed must be at least 0"),
        (("watch", "kuhn-poker-v0", "--seed", "-1"), "--seed must be at least 0"),
        (("replay", "/"), "/ is a folder"),
        (("eval", "kuhn-poker-v0", "-a", "r=random", "--workers", "-2"), "--workers must be at least 1"),
        (("eval", "kuhn-poker-v0", "-a", "r=random", "--seed", "-1"), "--seed must be at least 0"),
        (("plot", "/bin/sh"), "/bin/sh: not a metrics file (not UTF-8 text"),
        (("eval", "kuhn-poker-v0", "-a", "r=player_0"), "unknown agent 'player_0'"),
        (("eval", "kuhn-poker-v0", "-a", "r=random", "--db", "/proc/x/l.db"), "/proc/x/l.db"),
        (("eval", "kuhn-poker-v0", "-a", "r=random", "--kw", "num_hands=-1"), "num_hands"),
        (("leaderboard", "--bootstrap", "-1"), "--bootstrap must be at least 0"),
        (("train", "--set", "iterations=abc"), "iterations must be an integer, got 'abc'"),
        (("train", "--set", "lr=-1"), "lr must be > 0"),
        (("train", "--set", "entropy_coef=-0.1"), "entropy_coef must be ≥ 0"),
        (("train", "--set", "lr=.nan"), "lr must be a finite number, got nan"),
        (("train", "--set", "kl_coef=.inf"), "kl_coef must be a finite number, got inf"),
        (("train", "--set", "aggregation=token-sum"), "aggregation must be one of token-mean"),
        (("train", "--set", "dual_clip=abc"), "dual_clip must be null or a number > 1"),
        (("train", "--set", "seed=-1"), "seed must be ≥ 0"),
        (("train", "--set", "model=5"), "model must be null (build the tiny model) or a model path"),
        (("train", "--set", "tis_cap=abc"), "tis_cap must be a number > 0"),
        (("train", "--set", "rewards={kuhn-poker-v0: {scale: .nan}}"), "values must be finite numbers"),
        (("train", "--set", "opponents={self: .inf}"), "the weight of self must be a finite number >= 0"),
        (("train", "--set", "lora={r: 8, alpha: .nan}"), "lora r must be an integer >= 1 and alpha > 0"),
        (("train", "--set", "warmstart.lr=.nan"), "warmstart: lr must be a number > 0, got nan"),
        (("train", "--set", "warmstart.agents=expert"), "warmstart: agents must be one of scripted, random"),
        (("train", "--set", "warmstart.scripted_agent=5"), "warmstart: scripted_agent must map games to agent"),
        (("train", "--set", "tiny_model.initializer_range=.nan"), "tiny_model: initializer_range must be a number > 0"),
        (("train", "--set", "tiny_model.num_heads=3"), "tiny_model: hidden_size must be divisible by num_heads"),
        (("train", "--set", "envs.nosuch-v0={}"), "unknown env 'nosuch-v0'"),
        (("train", "--set", "history_lines={tictactoe-v9: 2}"), "unknown env 'tictactoe-v9'. Did you mean"),
        (("train", "--set", "max_new_tokens={kuhn-poker: 8}"), "unknown env 'kuhn-poker'"),
        (("train", "--set", "eval_sample=3"), "eval_sample must be true or false"),
        (("train", "--set", "nokey=1"), "unknown config key 'nokey'"),
        (("train", "--set", "out=/proc/self/status"), "out /proc/self/status: is a file, give a folder"),
        (("train", "--set", "out=/proc/arena-run"), "out /proc/arena-run: cannot write there"),
        (("train", "--config", "/no/such.yaml"), "no such file: /no/such.yaml"),
        (("train", "--resume", "/"), "--resume /: not a checkpoint"),
        (("plot", "/no/such/run"), "no metrics at /no/such/run"),
    ],
)
def test_bad_input_is_one_line_before_any_work(capsys, tmp_path, monkeypatch, args, needle):
    monkeypatch.setenv("ARENA_HOME", str(tmp_path))
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and needle in first(err), err
    assert len(err.strip().splitlines()) == 1 and first(err).startswith("error: ")
    assert "Game over" not in out and not list(tmp_path.glob("*.db"))  # nothing ran, nothing was stored


@pytest.mark.parametrize(
    "options,needle",
    [
        (("--batch-size", "0"), "batch_size must be an integer >= 1, got 0"),
        (("--steps", "-1"), "steps must be an integer >= 0, got -1"),
        (("--threads", "0"), "--threads must be at least 1"),
        (("--mistake-rate", "1.5"), "mistake_rate must be between 0 and 1"),
        (("--matches", "0"), "matches per game must be positive integers"),
        (("--endgame-weight", "0"), "endgame_weight must be a number > 0"),
        (("--legal-weight", "-1"), "legal_weight must be a number >= 0"),
        (("--out", __file__), "is a file, give a folder"),  # it used to fail when saving, after the whole training
    ],
)
def test_warmstart_refuses_bad_numbers_before_playing_a_game(capsys, tmp_path, options, needle):
    """A zero batch size once failed with a bare ValueError after every game had been played."""
    import shutil

    from arena.agents.tiny import cached_tiny_model

    model = shutil.copytree(cached_tiny_model(), tmp_path / "model")  # a regression must not train the shared one
    capsys.readouterr()  # building it (the first time) wrote progress bars
    before = sorted((p.name, p.stat().st_mtime_ns) for p in model.iterdir())
    code, out, err = run_cli(capsys, "model", "warmstart", str(model), "--envs", "kuhn-poker-v0", *options)
    assert code == 2 and needle in first(err) and len(err.strip().splitlines()) == 1, err
    assert "examples" not in out  # nothing was collected
    assert sorted((p.name, p.stat().st_mtime_ns) for p in model.iterdir()) == before  # nor written


def test_resume_with_a_preset_or_config_is_refused_not_ignored(capsys, tmp_path):
    (tmp_path / "trainer_state.pt").write_bytes(b"")  # looks like a checkpoint; the check comes before loading it
    for extra in (("--preset", "cpu-tictactoe"), ("--config", str(tmp_path / "trainer_state.pt"))):
        code, _, err = run_cli(capsys, "train", "--resume", str(tmp_path), *extra)
        assert code == 2 and "--resume continues the checkpoint's own config" in first(err), err


def test_init_tiny_refuses_a_file_and_bad_sizes(capsys, tmp_path):
    (tmp_path / "taken").write_text("x")
    for args, needle in [
        ((str(tmp_path / "taken"),), "is a file; the model needs a folder"),
        ((str(tmp_path / "m"), "--hidden-size", "0"), "--hidden-size must be at least 1"),
        ((str(tmp_path / "m"), "--layers", "0"), "--layers must be at least 1"),
        ((str(tmp_path / "m"), "--seed", "-1"), "--seed must be at least 0"),
        ((str(tmp_path / "m"), "--hidden-size", "130"), "hidden_size must be divisible by num_heads"),
    ]:
        code, _, err = run_cli(capsys, "model", "init-tiny", *args)
        assert code == 2 and needle in first(err), err
    assert not (tmp_path / "m").exists()


def test_human_reprompts_on_slips_without_spending_retries(tmp_path, monkeypatch, capsys):
    typed = iter(["", "9", "banana", "4", *[str(cell) for cell in range(9)] * 5])  # then every cell in turn
    monkeypatch.setattr("builtins.input", lambda prompt="": next(typed))
    path = tmp_path / "t.jsonl"
    code, out, err = run_cli(
        capsys, "play", "tictactoe-v0", "-a", "player_0=human", "-a", "player_1=scripted", "--save", str(path)
    )
    assert code == 0, err
    assert out.count("type one of:") >= 3  # "", "9" (no such cell), "banana", then cells already taken
    actions = [line for line in path.read_text().splitlines() if '"event": "action"' in line]
    assert '"text": "[4]"' in actions[0]  # the first move reached the game as the legal "[4]"
    assert '"kind": "warning"' not in path.read_text()  # the game never saw a slip: no retry was spent


@pytest.mark.parametrize("stop", [EOFError, KeyboardInterrupt])
def test_end_of_input_or_ctrl_c_leaves_play_cleanly(tmp_path, monkeypatch, capsys, stop):
    moves = iter(["4"])

    def fake_input(prompt=""):
        try:
            return next(moves)
        except StopIteration:
            raise stop from None

    monkeypatch.setattr("builtins.input", fake_input)
    path = tmp_path / "partial.jsonl"
    code, _, err = run_cli(
        capsys, "play", "tictactoe-v0", "-a", "player_0=human", "-a", "player_1=scripted", "--save", str(path)
    )
    assert code == 130 and "Traceback" not in err
    assert first(err).startswith("interrupted: ") and "after 2 moves; partial transcript saved to" in first(err)
    assert path.exists()


class ServerGoneAfterTwoMoves(BaseAgent):
    """Plays two moves, then fails as a backend does when its model server goes away."""

    name = "gone"

    def __init__(self, seed=None):
        self.moves = 0

    def act(self, observation, info):
        from arena.core.errors import ArenaError

        self.moves += 1
        if self.moves > 2:
            raise ArenaError("openai backend: POST http://127.0.0.1:9/v1/chat/completions failed after 4 attempts")
        return info["legal_actions"][0]


def test_a_backend_failure_mid_game_keeps_the_moves_played(tmp_path, capsys):
    path = tmp_path / "t.jsonl"
    spec = f"player_0={__name__}:ServerGoneAfterTwoMoves"
    code, _, err = run_cli(capsys, "watch", "tictactoe-v0", "-a", spec, "-a", "player_1=random", "--save", str(path))
    assert code == 2 and "Traceback" not in err
    assert "failed after 4 attempts (after 4 moves; partial transcript saved to" in first(err), err
    assert sum('"event": "action"' in line for line in path.read_text().splitlines()) == 4  # X, O, X, O
    code, _, err = run_cli(capsys, "watch", "tictactoe-v0", "-a", spec, "-a", "player_1=random")
    assert code == 2 and "failed after 4 attempts" in first(err) and "saved" not in err  # no --save: nothing kept


class FailsOnOddSeed(BaseAgent):
    """Raises when built with an odd seed: a deterministic subset of matches fails."""

    name = "flaky"

    def __init__(self, seed=None):
        if seed is not None and seed % 2:
            raise ValueError("odd seed")
        self.seed = seed

    def act(self, observation, info):
        return (info.get("legal_actions") or ["x"])[0]


def test_partial_failure_exits_1_with_count_and_reason(tmp_path, capsys):
    spec = f"{__name__}:FailsOnOddSeed"
    plans = plan_matches("kuhn-poker-v0", parse_entrants(["r=random", f"f={spec}"]), 6)
    failing = sum(any(e.spec == spec and p.agent_seed(i) % 2 for i, (_, e) in enumerate(p.seats)) for p in plans)
    assert 0 < failing < len(plans)
    code, out, err = run_cli(
        capsys, "eval", "kuhn-poker-v0", "-a", "r=random", "-a", f"f={spec}", "-n", "6", "--db", str(tmp_path / "l.db")
    )
    assert code == 1
    assert f"{len(plans) - failing} played, {failing} failed" in first(out)
    assert f"{failing} × ValueError: odd seed" in err
    assert err.strip().splitlines()[-1].startswith(f"error: {failing} of {len(plans)} matches failed")
    with Store(tmp_path / "l.db") as store:
        assert store.count() == len(plans) - failing


def _spawn_eval(tmp_path: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ARENA_HOME": str(tmp_path)}
    args = ["eval", "kuhn-poker-v0", "-a", "r=random", "-a", "s=scripted", "-n", "100000", *extra]
    return subprocess.Popen(
        [sys.executable, "-m", "arena.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
        # A suite started in the background inherits an ignored SIGINT (and a Unix tool keeps it ignored):
        # the child gets the default disposition, as under a terminal.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "--ppid", str(pid), "-o", "pid="], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _wait_for_matches(tmp_path: Path, proc: subprocess.Popen, n: int = 20) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        db = tmp_path / "league.db"
        if db.exists():
            with Store(db) as store:
                if store.count() >= n:
                    return
        time.sleep(0.3)
    raise AssertionError("eval stored no matches")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
    return state not in ("Z", "X")


def _gone(pids: list[int], within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc and ps --ppid")
def test_ctrl_c_with_workers_stops_at_once_and_says_what_was_stored(tmp_path):
    proc = _spawn_eval(tmp_path, "--workers", "2")
    _wait_for_matches(tmp_path, proc)
    workers = _children(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole process group
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    summary = err.strip().splitlines()[-1]
    assert summary.startswith("interrupted: ") and "matches stored in" in summary and "run it again" in summary
    assert "Traceback" not in err
    assert workers and _gone(workers)


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc and ps --ppid")
def test_pool_workers_exit_when_the_parent_is_killed(tmp_path):
    proc = _spawn_eval(tmp_path, "--workers", "2")
    _wait_for_matches(tmp_path, proc)
    workers = _children(proc.pid)
    proc.kill()  # kill -9: no cleanup runs in the parent
    proc.communicate(timeout=30)
    assert len(workers) == 2 and _gone(workers)


def test_eval_progress_is_a_bar_on_a_terminal_and_lines_when_piped():
    import io

    from rich.console import Console

    from arena.league.cli import EvalProgress
    from arena.league.tournament import TournamentReport

    report = TournamentReport(planned=10, skipped=2)
    tty = Console(file=io.StringIO(), force_terminal=True, width=100)
    with EvalProgress("kuhn-poker-v0", tty) as progress:
        progress.start(report)
        assert progress.bar is not None and progress.bar.tasks[0].total == 8
        for k in range(8):
            progress.advance(None if k == 3 else object(), report)
        assert progress.bar.tasks[0].completed == 8 and progress.failed == 1
    piped = io.StringIO()
    with EvalProgress("kuhn-poker-v0", Console(file=piped, width=100), every_s=0.0) as progress:
        progress.start(report)
        progress.advance(object(), report)
    lines = piped.getvalue().splitlines()
    assert lines[0] == "kuhn-poker-v0: 8 matches to play"
    assert lines[1].startswith("kuhn-poker-v0: 1/8 matches (12%), ETA ")
