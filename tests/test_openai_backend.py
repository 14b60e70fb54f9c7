"""OpenAIBackend against a real loopback chat-completions server backed by the tiny transformers model."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

pytest.importorskip("transformers")
pytest.importorskip("httpx")

import arena
from arena.agents.backends.base import SamplingParams
from arena.agents.backends.openai_backend import OpenAIBackend, to_openai_messages
from arena.agents.backends.transformers_backend import TransformersBackend
from arena.agents.llm import LLMAgent, agent_from_spec
from arena.agents.tiny import cached_tiny_model
from arena.core.errors import ArenaError
from arena.core.replies import InvalidReply

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class ChatServer:
    """A minimal OpenAI/vLLM-style ``/v1/chat/completions`` server on 127.0.0.1 (a daemon thread).

    ``mode``: ``"ok"``; ``"stall"`` (sleeps ``stall_s`` before answering); ``"error"`` (HTTP 500);
    ``"strict"`` (HTTP 400 when vLLM's ``return_token_ids`` extension is present, like OpenAI's API);
    ``"toolong"`` (HTTP 400 for a context-length error, naming no request field).
    """

    def __init__(self, backend: TransformersBackend) -> None:
        self.backend = backend
        self.mode = "ok"
        self.stall_s = 2.0
        self.hits = 0
        self.bodies: list[dict] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server.lock:
                    server.hits += 1
                    server.bodies.append(body)
                if server.mode == "stall":
                    time.sleep(server.stall_s)
                    return self._send(504, {"error": {"message": "stalled"}})  # the client gave up long ago
                if server.mode == "error":
                    return self._send(500, {"error": {"message": "boom"}})
                if server.mode == "toolong":
                    message = "This model's maximum context length is 32 tokens.\nPlease reduce the length."
                    return self._send(400, {"error": {"message": message}})
                if server.mode == "strict" and "return_token_ids" in body:
                    return self._send(400, {"error": {"message": "unknown field return_token_ids"}})
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": "not found"}})
                with server.lock:  # the torch model is not thread-safe
                    return self._send(200, server.answer(body))

            def _send(self, code, payload):
                data = json.dumps(payload).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def answer(self, body: dict) -> dict:
        b = self.backend
        messages = [
            {
                "role": m["role"],
                "content": m["content"]
                if isinstance(m["content"], str)
                else "\n".join(p.get("text", "[image]") for p in m["content"]),
            }
            for m in body["messages"]
        ]
        if body.get("continue_final_message"):
            text = b.tokenizer.apply_chat_template(messages, continue_final_message=True, tokenize=False)
            ids = b.tokenizer(text, add_special_tokens=False)["input_ids"]
            scored = b.score_ids([ids[:1]], [ids[1:]])[0].logprobs
            table = [None] + [{str(t): {"logprob": lp, "rank": 1}} for t, lp in zip(ids[1:], scored, strict=True)]
            return {
                "choices": [{"message": {"content": ""}, "finish_reason": "length"}],
                "prompt_token_ids": ids,
                "prompt_logprobs": table,
            }
        sampling = SamplingParams(
            temperature=body.get("temperature", 1.0),
            top_p=body.get("top_p", 1.0),
            max_new_tokens=body.get("max_tokens", 16),
            stop=tuple(body.get("stop") or ()),
            seed=body.get("seed"),
        )
        (c,) = b.generate([messages], sampling)
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": c.text},
            "finish_reason": c.finish_reason,
            "logprobs": {
                "content": [
                    {"token": f"token_id:{t}", "logprob": lp}
                    for t, lp in zip(c.completion_ids, c.logprobs, strict=True)
                ]
            }
            if body.get("logprobs")
            else None,
        }
        out = {"id": "x", "object": "chat.completion", "choices": [choice]}
        if body.get("return_token_ids"):
            choice["token_ids"] = c.completion_ids
            out["prompt_token_ids"] = c.prompt_ids
        return out

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def local():
    return TransformersBackend(str(cached_tiny_model()))


@pytest.fixture
def server(local):
    s = ChatServer(local)
    yield s
    s.close()


GREEDY = SamplingParams(temperature=0, max_new_tokens=5)
PROMPTS = [[{"role": "user", "content": f"move {i} " * (i + 1)}] for i in range(4)]


def test_generate_matches_the_local_backend(server, local):
    backend = OpenAIBackend("tiny", base_url=server.url, timeout=10, concurrency=3)
    remote = backend.generate(PROMPTS, GREEDY)
    direct = local.generate(PROMPTS, GREEDY)
    for r, d in zip(remote, direct, strict=True):
        assert (r.text, r.prompt_ids, r.completion_ids, r.finish_reason) == (
            d.text,
            d.prompt_ids,
            d.completion_ids,
            d.finish_reason,
        )
        np.testing.assert_allclose(r.logprobs, d.logprobs, atol=1e-5)
    body = server.bodies[0]
    assert body["logprobs"] is True and body["return_token_ids"] is True and body["max_tokens"] == 5
    assert server.hits == len(PROMPTS)


def test_score_via_prompt_logprobs(server, local):
    backend = OpenAIBackend("tiny", base_url=server.url, timeout=10)
    cont = "<think></think><answer>[4]</answer>"
    (remote,) = backend.score(PROMPTS[:1], [cont])
    (direct,) = local.score(PROMPTS[:1], [cont])
    assert remote.continuation_ids == direct.continuation_ids
    np.testing.assert_allclose(remote.logprobs, direct.logprobs, atol=1e-4)


def test_plays_a_match_against_the_server(server):
    backend = OpenAIBackend("tiny", base_url=server.url, timeout=10)
    agent = LLMAgent(backend, env_id="tictactoe-v0", sampling=SamplingParams(max_new_tokens=4, seed=0))
    result = arena.play("tictactoe-v0", [agent, agent], seed=0)
    assert result.winners or result.returns
    assert server.hits >= 2
    spec_agent = agent_from_spec(f"tiny,backend=openai,base_url={server.url},timeout=5,max_new_tokens=3")
    assert isinstance(spec_agent.backend, OpenAIBackend) and spec_agent.backend.timeout == 5
    hits = server.hits
    move = spec_agent.act({"text": "go"}, {})  # 3 tokens: rarely a closed answer, so usually an invalid move
    assert server.hits == hits + 1 and isinstance(move, str | InvalidReply)


def test_stalled_server_times_out_with_a_clear_error(server):
    server.mode, server.stall_s = "stall", 3.0
    backend = OpenAIBackend("tiny", base_url=server.url, timeout=0.3, max_retries=1, backoff=0.01)
    start = time.perf_counter()
    with pytest.raises(ArenaError, match="timed out"):
        backend.generate(PROMPTS[:1], GREEDY)
    assert time.perf_counter() - start < 2.0  # 2 attempts x 0.3 s, never a hang
    assert server.hits == 2


def test_server_errors_are_retried_then_raised(server):
    server.mode = "error"
    backend = OpenAIBackend("tiny", base_url=server.url, timeout=5, max_retries=2, backoff=0.01)
    with pytest.raises(ArenaError, match="HTTP 500") as err:
        backend.generate(PROMPTS[:1], GREEDY)
    assert "3 attempts" in str(err.value)
    assert server.hits == 3


def test_strict_server_without_token_ids_extension(server):
    server.mode = "strict"
    backend = OpenAIBackend("tiny", base_url=server.url, timeout=5)
    (c,) = backend.generate(PROMPTS[:1], GREEDY)
    assert backend.capabilities["token_ids"] is False
    assert "return_token_ids" not in server.bodies[-1]
    assert c.completion_ids and len(c.completion_ids) == len(c.logprobs)  # from "token_id:N" logprob tokens


def test_an_unrelated_client_error_is_one_line_and_switches_nothing_off(server):
    server.mode = "toolong"
    backend = OpenAIBackend("tiny", base_url=server.url, timeout=5)
    with pytest.raises(ArenaError, match="HTTP 400: This model's maximum context length") as err:
        backend.generate(PROMPTS[:1], GREEDY)
    assert "\n" not in str(err.value)
    assert backend.capabilities == {"token_ids": None, "logprobs": None, "prompt_logprobs": None}
    server.mode = "ok"
    (c,) = backend.generate(PROMPTS[:1], GREEDY)
    assert server.bodies[-1]["return_token_ids"] is True and c.completion_ids
    assert backend.capabilities["token_ids"] is True and backend.capabilities["logprobs"] is True


def test_identical_prompts_in_a_seeded_batch_get_their_own_seeds(server):
    backend = OpenAIBackend("tiny", base_url=server.url, timeout=10, concurrency=1)
    backend.generate([PROMPTS[0]] * 3, SamplingParams(max_new_tokens=3, seed=11))
    first = [b["seed"] for b in server.bodies]
    backend.generate([PROMPTS[0]] * 3, SamplingParams(max_new_tokens=3, seed=11))
    assert len(set(first)) == 3 and [b["seed"] for b in server.bodies[3:]] == first


def test_unreachable_server_and_bad_options():
    backend = OpenAIBackend("tiny", base_url="http://127.0.0.1:9/v1", timeout=0.5, max_retries=1, backoff=0.01)
    with pytest.raises(ArenaError, match="2 attempts"):
        backend.generate(PROMPTS[:1], GREEDY)
    with pytest.raises(ArenaError):
        backend.sync_from(None)
    with pytest.raises(ArenaError):
        OpenAIBackend("tiny")
    with pytest.raises(ArenaError):
        OpenAIBackend("tiny", base_url="http://x/v1", concurrency=0)


@pytest.mark.parametrize(
    "option",
    [
        {"timeout": float("nan")},
        {"timeout": float("inf")},
        {"timeout": "abc"},
        {"backoff": -1},
        {"backoff": float("nan")},
        {"max_retries": 1.5},
        {"concurrency": True},
    ],
)
def test_bad_options_are_refused_when_the_backend_is_built(option):
    """``timeout=nan`` (an llm spec value) passed ``timeout <= 0`` and failed at the first request with a bare
    ValueError (``inf``: OverflowError; a negative or NaN ``backoff``: ValueError at the first retry)."""
    with pytest.raises(ArenaError, match="openai backend: timeout must be a number > 0"):
        OpenAIBackend("tiny", base_url="http://127.0.0.1:9/v1", **option)


class CannedServer:
    """A loopback server that answers every POST with one canned JSON body (what a misbehaving server sends), or
    with what ``payload(request_body)`` returns when ``payload`` is callable."""

    def __init__(self) -> None:
        self.payload: object = {}
        canned = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                payload = canned.payload(body) if callable(canned.payload) else canned.payload
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


def _reply(**choice):
    return {"choices": [{"message": {"content": "hi"}, "finish_reason": "stop", **choice}]}


@pytest.mark.parametrize(
    "payload",
    [
        _reply(logprobs={"content": [{"token": "token_id:5", "logprob": "x"}]}),
        _reply(logprobs={"content": 7}),
        _reply(logprobs=[1, 2]),
        _reply(logprobs={"content": [{"token": "token_id:5", "logprob": float("nan")}]}),
        _reply(token_ids=["a", "b"]),
        {**_reply(), "prompt_token_ids": "zz"},
        {"choices": [{"message": "hi", "finish_reason": "stop"}]},
    ],
)
def test_a_malformed_completion_is_one_clear_error(payload):
    """Each of these raised a bare ValueError, TypeError or AttributeError from the parser (or, NaN, was kept)."""
    server = CannedServer()
    try:
        server.payload = payload
        backend = OpenAIBackend("tiny", base_url=server.url, max_retries=0)
        with pytest.raises(ArenaError, match="openai backend: malformed completion"):
            backend.generate(PROMPTS[:1], GREEDY)
        # an empty reply is a reply (the game judges it), not an error
        server.payload = {"choices": [{"message": {"content": None}, "finish_reason": "stop"}]}
        (completion,) = backend.generate(PROMPTS[:1], GREEDY)
        assert completion.text == "" and completion.finish_reason == "stop"
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.mark.parametrize("logprob", [float("nan"), float("inf"), float("-inf"), "1e999", None])
def test_a_non_finite_prompt_logprob_is_one_clear_error(logprob):
    """A NaN score once decided a constrained move (argmax of a NaN softmax: always the first legal action) and
    broke a sampling agent's draw with numpy's ValueError."""
    server = CannedServer()

    def answer(body: dict) -> dict:
        if body.get("prompt_logprobs") is None:  # the prompt alone
            return {"prompt_token_ids": [1, 2], "choices": [{"message": {"content": ""}}]}
        return {
            "prompt_token_ids": [1, 2, 3],
            "prompt_logprobs": [None, {"2": {"logprob": -1.0}}, {"3": {"logprob": logprob}}],
            "choices": [{"message": {"content": ""}}],
        }

    try:
        server.payload = answer
        backend = OpenAIBackend("tiny", base_url=server.url, max_retries=0)
        info = {"legal_actions": ["[0]", "[1]"]}
        for sample in (False, True):
            agent = LLMAgent(backend, env_id="tictactoe-v0", constrained=True, sample=sample)
            with pytest.raises(ArenaError, match="openai backend: malformed prompt logprob at position 2"):
                agent.act({"text": "Your move."}, info)
        with pytest.raises(ArenaError, match="response without choices"):  # a KeyError once
            server.payload = {"choices": {"0": {"message": {"content": "hi"}}}}
            backend.generate(PROMPTS[:1], GREEDY)
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def test_images_become_data_urls():
    image = np.zeros((3, 3, 3), dtype=np.uint8)
    (msg,) = to_openai_messages(
        [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": "look"}]}]
    )
    assert msg["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert msg["content"][1] == {"type": "text", "text": "look"}
