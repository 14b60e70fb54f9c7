"""OpenAIBackend against a real OpenAI-compatible server: ``transformers serve`` started here on 127.0.0.1
with the tiny model (offline, from its local directory). Skips when the serving extra is missing.

``transformers serve`` refuses vLLM's extension fields by name (HTTP 422) and silently returns no logprobs,
so it exercises what a stub written by us would not: per-capability detection, one-line HTTP errors, and the
warning that its completions cannot be trained on.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import warnings

import pytest

pytest.importorskip("transformers")
httpx = pytest.importorskip("httpx")
from transformers.utils.import_utils import is_serve_available  # noqa: E402

if not is_serve_available():
    pytest.skip("transformers serve needs the serving extra (fastapi, uvicorn, openai)", allow_module_level=True)

import arena  # noqa: E402
from arena.agents.backends.base import SamplingParams  # noqa: E402
from arena.agents.backends.openai_backend import OpenAIBackend  # noqa: E402
from arena.agents.backends.transformers_backend import TransformersBackend  # noqa: E402
from arena.agents.llm import LLMAgent  # noqa: E402
from arena.agents.tiny import cached_tiny_model  # noqa: E402
from arena.core.errors import ArenaError  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

GREEDY = SamplingParams(temperature=0, max_new_tokens=5)
PROMPTS = [[{"role": "user", "content": f"move {i} " * (i + 1)}] for i in range(3)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(model directory, base_url) of a ``transformers serve`` process pinned to the tiny model."""
    model = str(cached_tiny_model())
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "transformers.cli.transformers", "serve", model]
    command += ["--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"transformers serve did not come up:\n{log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield model, f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_generates_like_the_local_model_and_detects_each_capability(served):
    model, url = served
    backend = OpenAIBackend(model, base_url=url, timeout=60, concurrency=1)
    with pytest.warns(UserWarning, match="no token ids and logprobs"):
        remote = backend.generate(PROMPTS, GREEDY)
    local = TransformersBackend(model).generate(PROMPTS, GREEDY)
    assert [r.text.strip() for r in remote] == [d.text.strip() for d in local]
    # refused by name (HTTP 422) -> off; silently absent -> off; never asked -> unknown
    assert backend.capabilities == {"token_ids": False, "logprobs": False, "prompt_logprobs": None}
    sent = backend.requests_sent
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the warning is given once, not per call
        backend.generate(PROMPTS[:1], GREEDY)
    assert backend.requests_sent == sent + 1  # the refused field is no longer sent: no second 422


def test_an_unrelated_client_error_is_one_line_and_switches_nothing_off(served):
    _, url = served
    backend = OpenAIBackend("not-the-served-model", base_url=url, timeout=60, max_retries=0)
    with pytest.raises(ArenaError, match="HTTP 400") as err:
        backend.generate(PROMPTS[:1], GREEDY)
    message = str(err.value)
    assert "\n" not in message and "pinned" in message and len(message) < 400
    assert backend.capabilities["logprobs"] is None and backend.capabilities["prompt_logprobs"] is None


def test_constrained_scoring_is_refused_with_a_clear_error(served):
    model, url = served
    backend = OpenAIBackend(model, base_url=url, timeout=60)
    with pytest.raises(ArenaError, match="cannot score continuations") as err:
        backend.score(PROMPTS[:1], ["<answer>[4]</answer>"])
    assert "\n" not in str(err.value) and "prompt_logprobs" in str(err.value)
    sent = backend.requests_sent
    with pytest.raises(ArenaError, match="cannot score continuations"):
        backend.score(PROMPTS[:1], ["<answer>[4]</answer>"])
    assert backend.requests_sent == sent  # known now: fails before any request


def test_plays_a_match_against_the_real_server(served):
    model, url = served
    backend = OpenAIBackend(model, base_url=url, timeout=60)
    agent = LLMAgent(backend, env_id="tictactoe-v0", sampling=SamplingParams(max_new_tokens=4, seed=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no token ids: expected from this server
        result = arena.play("tictactoe-v0", [agent, agent], seed=0)
    assert result.winners or result.returns
