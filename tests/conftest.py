"""Test-wide settings: no network, quiet hypothesis profile sized for a 2-core CI machine."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_NUM_THREADS", "1")  # tiny models: threads only contend on a 2-core machine

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "arena", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
# A longer, randomised search for a spare machine: HYPOTHESIS_PROFILE=deep pytest tests/test_conformance.py ...
settings.register_profile("deep", parent=settings.get_profile("arena"), max_examples=400, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "arena"))


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models run far faster single-threaded on a shared, loaded CPU (no thread oversubscription)."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_vlm(tmp_path_factory):
    """The tiny vision-language model's directory, built once for every test that trains on a visual game. Its
    tokenizer is trained on one random match of each game (as the presets' models are, on more): a visual-spy
    prompt then takes about a third of the tokens that the builder's near-byte default needs, and so of the time."""
    pytest.importorskip("torch")
    from arena.agents.tiny import build_tiny_vlm

    return build_tiny_vlm(tmp_path_factory.mktemp("vlm"), game_corpus=True, matches_per_env=1)


@pytest.fixture(scope="session")
def load_script():
    """``load_script("name")``: the module of ``scripts/name.py`` (the scripts are files, not a package)."""
    import importlib.util
    from pathlib import Path

    def load(name: str):
        path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
