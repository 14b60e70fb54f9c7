"""``arena train``: run the self-play loop from a preset or YAML config with ``--set key=value`` overrides."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer


def _preset_help() -> str:
    """The --preset help: every shipped preset, read from arena/trainers/presets."""
    from arena.trainers.config import PRESETS_DIR

    names = sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))
    return "a shipped preset (default cpu): " + ", ".join(names)


_PRESET_HELP = _preset_help()


def train(
    preset: Annotated[str | None, typer.Option(help=_PRESET_HELP)] = None,
    config: Annotated[Path | None, typer.Option(help="a YAML config file (applied after the preset)")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="override a config key: --set iterations=10")] = None,
    resume: Annotated[Path | None, typer.Option(help="continue from a checkpoint directory")] = None,
    quiet: Annotated[bool, typer.Option(help="log lines instead of a progress bar")] = False,
) -> None:
    """Train an LLM policy by self-play (collect, advantages, PPO/GRPO update, evaluate, checkpoint)."""
    from arena.cli_checks import input_file, output_folder
    from arena.core.errors import ArenaError
    from arena.trainers.config import apply_override, load_config

    if config is not None:
        input_file(config, "a YAML config")
    if resume is not None and not (Path(resume) / "trainer_state.pt").is_file():
        raise ArenaError(f"--resume {resume}: not a checkpoint (no trainer_state.pt there)")
    if resume is not None and (preset is not None or config is not None):
        raise ArenaError(
            "--resume continues the checkpoint's own config; --preset and --config cannot change it "
            "(use --set key=value, e.g. --set iterations=40)"
        )
    cfg = None if resume is not None else load_config(preset or ("cpu" if config is None else None), config, set_)
    if cfg is not None:
        output_folder(Path(cfg.out), "out")  # before the warm start, not after it

    import torch

    from arena.trainers.loop import Trainer, prepare_model, run

    start = time.perf_counter()
    if resume is not None:
        for item in set_ or []:
            apply_override({}, item)  # an unknown key or a malformed item fails before the checkpoint loads
        trainer = Trainer.resume(resume, sets=set_)  # e.g. --set iterations=40 to train further
        if trainer.iteration >= trainer.config.iterations:  # else: the whole evaluation again, a second "after" line
            raise ArenaError(
                f"{resume}: the run is at iteration {trainer.iteration} of its {trainer.config.iterations}; "
                f"--set iterations=N (N > {trainer.iteration}) trains further, and `arena eval ENV --agent "
                f"me=llm:{resume}` evaluates it"
            )
        torch.set_num_threads(trainer.config.threads)
    else:
        assert cfg is not None
        torch.set_num_threads(cfg.threads)
        model_dir = prepare_model(cfg, print)
        trainer = Trainer(cfg, model_dir)
        Path(cfg.out).mkdir(parents=True, exist_ok=True)
        (Path(cfg.out) / "config.yaml").write_text(__import__("yaml").safe_dump(cfg.to_dict(), sort_keys=False))
    run(trainer, progress=not quiet)
    print(
        f"done in {time.perf_counter() - start:.0f}s; checkpoint {trainer.out / 'checkpoint'}, metrics {trainer.metrics_file}"
    )
