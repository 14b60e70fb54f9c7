"""Run every shell command shown in README.md and docs/**/*.md; exit non-zero when one fails.

    python scripts/docs_check.py [--quick] [--list] [--timeout S] [FILE.md ...]

Commands are the lines of ```bash / ```sh blocks (``\\`` continuations joined, ``$ `` prompts stripped)
and the ``$ ``-prompted lines of ```console / ```text blocks (other lines there are sample output).
Each file's commands run in order, in one fresh temporary directory per file (so ``arena eval`` then
``arena leaderboard`` share a database) that links to the repository's top-level folders, with
``ARENA_HOME`` pointing inside it, ``HF_HUB_OFFLINE=1`` and stdin closed. Commands matching :data:`SKIP`
are skipped with their reason; ``--quick`` also skips :data:`SLOW` (commands that take more than a few
seconds). The exit status is 1 when any command fails or times out.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: (regex searched in the command, reason): never run.
SKIP: tuple[tuple[str, str], ...] = (
    (r"^\s*pip3? install|python3? -m pip install", "installs packages (the check runs in the installed env)"),
    (
        r"\barena train\b|scripts/ablation\.py",
        "training runs for minutes to hours (covered by the trainer's own tests)",
    ),
    (r"\bruns/", "reads a training run's output (runs/...), which only `arena train` makes"),
    (r"\barena play\b.*=human", "interactive: a human seat reads the keyboard"),
    (
        r"vllm|--device cuda|device=cuda|CUDA_VISIBLE_DEVICES|\bray\b|gpu_check(_hf)?\.sh",
        "needs a GPU / vLLM / a Ray cluster",
    ),
    (r"\[--?[\w-]+", "usage synopsis with [optional] placeholders, not a literal command"),
    (r"^\s*bash scripts/test\.sh", "runs the whole test suite (this check is part of it)"),
    (r"\bFILE\b|\bENV\b|\bDIR\b|PATH_OR_NAME", "placeholder argument"),
)

#: (regex, reason): skipped with --quick only.
SLOW: tuple[tuple[str, str], ...] = (
    (r"python3? -m benchmarks(?!.*--only advantages)", "benchmarks take minutes"),
    (r"benchmarks/\w+\.py", "benchmark scripts take minutes"),
    (r"--games\s+\d{4,}", "a round robin of thousands of games"),
    (r"--plot", "draws a plot with matplotlib"),
    (r"scripts/\w+_eval\.py", "evaluation scripts play hundreds of games"),
    (r"scripts/\w+_probe\.py", "probes train a model for thousands of steps"),
    (r"\barena model\b", "builds and warm-starts a model"),
)

_FENCE = re.compile(r"^(\s*)```+\s*([\w-]*)")


@dataclass(frozen=True)
class Command:
    """One shell command and where it is shown."""

    path: Path
    line: int
    text: str


def extract(path: Path) -> list[Command]:
    """Every command shown in the markdown file ``path`` (see the module docstring for the rules)."""
    commands: list[Command] = []
    lang: str | None = None
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fence = _FENCE.match(raw)
        if fence:
            lang = None if lang is not None else fence.group(2).lower()
            pending = []
            continue
        if lang is None:
            continue
        line = raw.strip()
        if not pending:
            if lang in ("bash", "sh", "shell"):
                if not line or line.startswith("#"):
                    continue
                line = line.removeprefix("$ ")
            elif lang in ("console", "text") and line.startswith("$ "):
                line = line[2:]
            else:
                continue
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1].rstrip())
            continue
        pending.append(line)
        commands.append(Command(path, start, " ".join(pending)))
        pending = []
    return commands


def reason_to_skip(command: str, quick: bool) -> str | None:
    """The reason ``command`` is not run (None: run it); a trailing ``# comment`` is not matched."""
    code = re.split(r"\s#\s", command, maxsplit=1)[0]
    for pattern, reason in SKIP + (SLOW if quick else ()):
        if re.search(pattern, code):
            return reason
    return None


def _sandbox(tmp: Path) -> dict[str, str]:
    """Link the repository's top-level entries into ``tmp``; return the environment for commands."""
    for entry in ROOT.iterdir():
        if entry.name.startswith(".") or entry.name in ("build", "dist") or entry.name.endswith(".egg-info"):
            continue
        (tmp / entry.name).symlink_to(entry)
    env = dict(os.environ)
    env.update(
        ARENA_HOME=str(tmp / ".arena"),
        HF_HUB_OFFLINE="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])),
        COLUMNS="120",
        TERM="dumb",
    )
    return env


def run_file(commands: list[Command], quick: bool, timeout: float, log=print) -> list[tuple[Command, str]]:
    """Run one file's commands in order in a fresh sandbox; return the failures with their output."""
    failures: list[tuple[Command, str]] = []
    with tempfile.TemporaryDirectory(prefix="arena-docs-") as tmp:
        env = _sandbox(Path(tmp))
        for command in commands:
            where = f"{command.path.relative_to(ROOT) if command.path.is_relative_to(ROOT) else command.path}:{command.line}"
            reason = reason_to_skip(command.text, quick)
            if reason:
                log(f"SKIP {where}: {command.text}  ({reason})")
                continue
            start = time.perf_counter()
            try:
                proc = subprocess.run(
                    ["bash", "-c", command.text],
                    cwd=tmp,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                )
                ok, output = proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
            except subprocess.TimeoutExpired:
                ok, output = False, f"timed out after {timeout:.0f}s"
            log(f"{'ok  ' if ok else 'FAIL'} {where}: {command.text}  ({time.perf_counter() - start:.1f}s)")
            if not ok:
                failures.append((command, output))
    return failures


def doc_files() -> list[Path]:
    """README.md and every markdown file under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def main(argv: list[str] | None = None) -> int:
    """Check the given markdown files (default: README.md and docs/); 0 when every command passed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="markdown files (default: README.md, docs/**/*.md)")
    parser.add_argument("--quick", action="store_true", help="also skip commands that take more than a few seconds")
    parser.add_argument("--list", action="store_true", help="only list the commands and what would be skipped")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per command (default 120 quick, 600)")
    args = parser.parse_args(argv)
    files = [f.resolve() for f in args.files] or doc_files()
    # A guard against hangs, not a speed test: on a host with 4x slower Python the slowest quick command took 41 s.
    timeout = args.timeout or (120.0 if args.quick else 600.0)
    failures: list[tuple[Command, str]] = []
    total = 0
    for path in files:
        commands = extract(path)
        total += len(commands)
        if args.list:
            for command in commands:
                reason = reason_to_skip(command.text, args.quick)
                print(f"{'SKIP' if reason else 'RUN '} {path.name}:{command.line}: {command.text}")
            continue
        failures += run_file(commands, args.quick, timeout)
    for command, output in failures:
        print(f"\n--- {command.path}:{command.line}: {command.text}\n{output}", file=sys.stderr)
    print(f"{total} commands, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
