"""The tiny local model: built with no network, loaded like a real checkpoint, plays every registered game."""

from __future__ import annotations

import socket

import pytest

pytest.importorskip("transformers")

import arena
from arena.agents.backends.base import SamplingParams
from arena.agents.backends.transformers_backend import TransformersBackend
from arena.agents.llm import LLMAgent
from arena.agents.scheduler import play_many
from arena.agents.tiny import build_tiny_model, cached_tiny_model
from arena.core.errors import ArenaError

#: Games whose single match takes the tiny model longer than ~20 s on one CPU thread (none so far).
SLOW_GAMES: set[str] = set()


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_build_and_load_through_from_pretrained(tmp_path, no_network):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    corpus = ["<think></think><answer>[4]</answer>", "Legal moves: [0] [1] [2]"] * 20
    path = build_tiny_model(
        tmp_path / "llama",
        arch="llama",
        hidden_size=32,
        num_layers=1,
        intermediate_size=64,
        num_heads=2,
        num_kv_heads=1,
        corpus=corpus,
    )
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in path.iterdir()}
    model = AutoModelForCausalLM.from_pretrained(path)
    tok = AutoTokenizer.from_pretrained(path)
    assert model.config.model_type == "llama" and model.config.vocab_size == len(tok)
    text = tok.apply_chat_template([{"role": "user", "content": "hi [4]"}], add_generation_prompt=True, tokenize=False)
    assert text.endswith("<|im_start|>assistant\n")
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == text  # byte-level round trip, specials kept
    backend = TransformersBackend(str(path))
    (c,) = backend.generate([[{"role": "user", "content": "hi"}]], SamplingParams(max_new_tokens=3, seed=0))
    assert len(c.completion_ids) == len(c.logprobs) >= 1


def test_cached_model_is_qwen2_and_deterministic(no_network):
    path = cached_tiny_model()
    assert cached_tiny_model() == path
    from transformers import AutoConfig

    assert AutoConfig.from_pretrained(path).model_type == "qwen2"
    with pytest.raises(ArenaError):
        build_tiny_model(path.parent / "x", arch="gpt9")


def _play_all(env_ids: list[str]) -> None:
    backend = TransformersBackend(str(cached_tiny_model()))
    matches = []
    for env_id in env_ids:
        env = arena.make(env_id)
        agent = LLMAgent(backend, env_id=env_id, sampling=SamplingParams(max_new_tokens=4, seed=0))
        matches.append((env, {seat: agent for seat in env.possible_agents}, 0))
    outcomes = play_many(matches, traced=False)
    for env_id, outcome in zip(env_ids, outcomes, strict=True):
        assert outcome.env_id == env_id
        assert not outcome.truncated or outcome.steps < 10_000, env_id  # a game-level truncation is a full match
        assert outcome.turns, env_id
        assert set(outcome.returns) == set(arena.make(env_id).possible_agents)


def test_tiny_model_plays_every_fast_game(no_network):
    ids = [s.id for s in arena.list_envs() if s.id not in SLOW_GAMES]
    assert "tictactoe-v0" in ids and "kuhn-poker-v0" in ids
    _play_all(ids)  # all games at once: the scheduler batches their turns


@pytest.mark.slow
@pytest.mark.parametrize("env_id", sorted(SLOW_GAMES))
def test_tiny_model_plays_slow_games(env_id, no_network):
    if env_id not in {s.id for s in arena.list_envs()}:
        pytest.skip(f"{env_id} is not registered")
    _play_all([env_id])


def test_model_cli_init_tiny_and_warmstart(tmp_path, no_network):
    from typer.testing import CliRunner

    from arena.cli import app

    runner = CliRunner()
    model = tmp_path / "m"
    small = ["--hidden-size", "32", "--layers", "1"]
    result = runner.invoke(app, ["model", "init-tiny", str(model), *small])
    assert result.exit_code == 0, result.output
    assert (model / "config.json").exists() and "pretrain" not in result.output
    result = runner.invoke(app, ["model", "init-tiny", str(tmp_path / "p"), *small, "--pretrain-steps", "2"])
    assert result.exit_code == 0 and "pretrain step 2/2" in result.output, result.output
    result = runner.invoke(app, ["model", "init-tiny", str(tmp_path / "q"), "--pretrain-steps", "-1"])
    assert result.exit_code != 0 and "--pretrain-steps" in str(result.exception) + result.output
    before = (model / "model.safetensors").read_bytes()
    result = runner.invoke(
        app, ["model", "warmstart", str(model), "--envs", "tictactoe-v0", "--steps", "2", "--matches", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "examples" in result.output and (model / "model.safetensors").read_bytes() != before
    result = runner.invoke(app, ["model", "warmstart", str(model), "--agents", "oracle"])
    assert result.exit_code != 0 and isinstance(result.exception, ArenaError)
    for bad, message in (("spy-v0", "GAME=AGENT"), ("spy-v0=nobody", "has no agent 'nobody'")):
        result = runner.invoke(
            app, ["model", "warmstart", str(model), "--envs", "spy-v0", "--agents", "scripted", "--scripted-agent", bad]
        )
        assert result.exit_code != 0 and message in str(result.exception)
    naive = ["--envs", "spy-v0", "--agents", "scripted", "--scripted-agent", "spy-v0=scripted-naive"]
    result = runner.invoke(app, ["model", "warmstart", str(model), *naive, "--steps", "1", "--matches", "1"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        ({"num_layers": 0}, "num_layers must be an integer >= 1"),
        ({"hidden_size": 0}, "hidden_size must be an integer >= 1"),
        ({"vocab_size": -5}, "vocab_size must be an integer >= 1"),
        ({"num_heads": 3}, "hidden_size must be divisible by num_heads"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"matches_per_env": 0}, "matches_per_env must be an integer >= 1"),
    ],
)
def test_build_tiny_model_refuses_sizes_it_cannot_build_before_any_work(tmp_path, kwargs, needle):
    """A zero width divided by zero, zero layers built an empty model, a negative seed failed in numpy."""
    with pytest.raises(ArenaError, match=needle):
        build_tiny_model(tmp_path / "m", **kwargs)
    assert not (tmp_path / "m").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ArenaError, match="is a file; the model needs a folder"):
        build_tiny_model(tmp_path / "file")
