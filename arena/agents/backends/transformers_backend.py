"""``TransformersBackend``: a Hugging Face model as a policy (CPU or GPU), also the trainable model.

* Generation is batched with left padding (chunks of ``max_batch_size``); prompts go through the
  tokenizer's (or processor's) chat template; :meth:`TransformersBackend.apply_chat` returns the exact
  prompt ids that :meth:`generate` feeds the model, so a trainer can rebuild inputs.
* Per-token logprobs are ``log_softmax`` of the model's raw logits (temperature 1, no top-p), whatever
  the sampling settings -- the value a trainer's forward pass recomputes. They are gathered step by step
  (:class:`ChosenTokenLogprobs`); full-vocabulary logits are never kept for the whole rollout.
* Image-text-to-text models (``AutoModelForImageTextToText`` + ``AutoProcessor``) receive image parts
  as images; text-only models get an ``[image]`` placeholder instead.
* The trainer trains ``.model`` in place; ``sync_from(backend.model)`` then only bumps ``version``.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from arena.agents.backends.base import (
    ChatPrompt,
    Completion,
    SamplingParams,
    Scored,
    cut_at_stop,
    images_of,
    text_only,
)
from arena.agents.backends.devices import checked_device
from arena.agents.logits import (
    cache_argument,
    cache_for_rows,
    forward_accepts,
    opening_groups,
    prefix_cache,
    returned_cache,
    shared_prompt_prefix,
)
from arena.core.errors import ArenaError

_DTYPES = ("float32", "float16", "bfloat16", "auto")
IMAGE_PLACEHOLDER = "[image]"


def _is_multimodal_config(config: Any) -> bool:
    return getattr(config, "vision_config", None) is not None


@functools.cache
def _neutral_generation() -> dict[str, Any]:
    """Generation settings that switch off every logits processor a checkpoint's ``generation_config`` may
    turn on (repetition penalty, top-k, min-p, ...): sampling is softmax(logits / T) with top-p only, so
    the recorded raw logprobs are the ones the trainer recomputes. Values are passed as ``generate``
    keyword arguments, which take precedence over the checkpoint's settings."""
    from transformers import GenerationConfig

    neutral = {
        "repetition_penalty": 1.0,
        "encoder_repetition_penalty": 1.0,
        "no_repeat_ngram_size": 0,
        "encoder_no_repeat_ngram_size": 0,
        "top_k": 0,
        "typical_p": 1.0,
        "epsilon_cutoff": 0.0,
        "eta_cutoff": 0.0,
        "min_length": 0,
        "min_new_tokens": None,
        "min_p": None,
        "top_h": None,
        "bad_words_ids": None,
        "sequence_bias": None,
        "suppress_tokens": None,
        "begin_suppress_tokens": None,
        "forced_bos_token_id": None,
        "forced_eos_token_id": None,
        "exponential_decay_length_penalty": None,
        "guidance_scale": None,
        "watermarking_config": None,
        "renormalize_logits": False,
    }
    known = GenerationConfig()
    return {k: v for k, v in neutral.items() if hasattr(known, k)}


class ChosenTokenLogprobs:
    """A logits processor that keeps, per generated token, only the log-probability of the token that was
    chosen: ``log_softmax`` of the logits it is given (the raw ones: custom processors run before
    temperature and top-p), gathered one step later, when the chosen token shows up in ``input_ids``.
    One step's ``[B, V]`` is held at a time instead of the ``[B, T, V]`` that ``output_logits`` keeps."""

    def __init__(self) -> None:
        self._pending: Any = None
        self._steps: list[Any] = []

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if self._pending is not None:
            self._steps.append(self._pending.gather(-1, input_ids[:, -1:]))
        self._pending = torch.log_softmax(scores.float(), dim=-1)
        return scores

    def finish(self, new_tokens: Any) -> Any:
        """``[B, T]`` logprobs of ``new_tokens`` (the generated part of the sequences)."""
        import torch

        if self._pending is not None and len(self._steps) < new_tokens.shape[1]:
            self._steps.append(self._pending.gather(-1, new_tokens[:, len(self._steps) : len(self._steps) + 1]))
        self._pending = None
        if not self._steps:
            return torch.zeros(new_tokens.shape, dtype=torch.float32)
        return torch.cat(self._steps, dim=1)[:, : new_tokens.shape[1]]


#: Largest rows x width x width of one prefix-tree scoring pass (its attention mask): about 256 MB in float32.
TREE_MASK_BUDGET = 64 * 2**20


class TransformersBackend:
    """A ``transformers`` causal LM (or image-text-to-text model) behind the ``PolicyBackend`` protocol."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        device: str = "cpu",
        dtype: str = "float32",
        max_batch_size: int = 64,
        processor: Any = None,
    ) -> None:
        if dtype not in _DTYPES:
            raise ArenaError(f"dtype must be one of {_DTYPES}, got {dtype!r}")
        if isinstance(max_batch_size, bool) or not isinstance(max_batch_size, int) or max_batch_size < 1:
            raise ArenaError(f"max_batch_size must be an integer >= 1, got {max_batch_size!r}")
        self.device = checked_device(device)
        self.max_batch_size = int(max_batch_size)
        #: Score a prompt's continuations as one masked sequence (:meth:`_score_tree`); False: from the
        #: prompt's KV cache copied per continuation (the same numbers; kept for models without custom masks).
        self.prefix_tree = True
        #: With ``prefix_tree``: distinct prompts that agree on their first tokens (one game's turns) run the
        #: prefix they share once, from its KV cache (:meth:`_score_group`); False: each prompt runs in full.
        self.group_prefix = True
        self.version = 0
        self.processor = processor
        self.name_or_path = (
            str(model)
            if isinstance(model, str | os.PathLike)
            else getattr(getattr(model, "config", None), "_name_or_path", type(model).__name__)
        )
        if isinstance(model, str | os.PathLike):
            model, tokenizer, self.processor = self._load(str(model), tokenizer, processor, dtype)
        elif tokenizer is None and processor is None:
            raise ArenaError("pass tokenizer= (or processor=) together with a model object")
        self.model = model.to(self.device)
        self.model.eval()
        if tokenizer is None and self.processor is not None:
            tokenizer = getattr(self.processor, "tokenizer", None)
        if tokenizer is None:
            raise ArenaError("no tokenizer: pass tokenizer= or a processor with a tokenizer")
        self.tokenizer = tokenizer
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.eos_ids = self._eos_ids()

    # -- loading -----------------------------------------------------------------------------------
    @staticmethod
    def _load(path: str, tokenizer: Any, processor: Any, dtype: str) -> tuple[Any, Any, Any]:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

        torch_dtype: Any = "auto" if dtype == "auto" else getattr(torch, dtype)
        if path.startswith(("/", ".", "~")) and not Path(path).expanduser().is_dir():
            raise ArenaError(f"no model directory at {path!r} (build one with `arena model init-tiny DIR`)")
        try:
            config = AutoConfig.from_pretrained(path)
        except (OSError, ValueError) as err:
            raise ArenaError(f"cannot load a model from {path!r}: {err}") from None
        if _is_multimodal_config(config):
            from transformers import AutoModelForImageTextToText, AutoProcessor

            processor = processor or AutoProcessor.from_pretrained(path)
            model = AutoModelForImageTextToText.from_pretrained(path, dtype=torch_dtype)
            return model, tokenizer or getattr(processor, "tokenizer", None), processor
        tokenizer = tokenizer or AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype)
        return model, tokenizer, processor

    def _eos_ids(self) -> set[int]:
        ids: set[int] = set()
        for source in (getattr(self.model, "generation_config", None), getattr(self.model, "config", None)):
            value = getattr(source, "eos_token_id", None)
            if isinstance(value, int):
                ids.add(value)
            elif isinstance(value, list | tuple):
                ids.update(int(v) for v in value)
        if self.tokenizer.eos_token_id is not None:
            ids.add(int(self.tokenizer.eos_token_id))
        return ids

    @property
    def multimodal(self) -> bool:
        return self.processor is not None and getattr(self.processor, "image_processor", None) is not None

    # -- prompts -----------------------------------------------------------------------------------
    def chat_text(self, prompt: ChatPrompt) -> str:
        """The prompt rendered by the chat template, ending with the assistant turn opener."""
        if self.multimodal:
            messages = []
            for message in prompt:
                content = message.get("content")
                if isinstance(content, list):
                    parts = [
                        {"type": "image"}
                        if p.get("type") == "image"
                        else {"type": "text", "text": self._plain(p.get("text", ""))}
                        for p in content
                        if isinstance(p, dict)
                    ]
                else:
                    parts = [{"type": "text", "text": self._plain(str(content))}]
                messages.append({"role": message.get("role", "user"), "content": parts})
            return self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        messages = text_only(prompt, IMAGE_PLACEHOLDER)
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        # No template (a base model): a plain transcript.
        return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "

    def _plain(self, text: str) -> str:
        """Text with the processor's image placeholder (``<image>``) spelled out: in a player's text it would
        become an image slot without an image and break the batch (game text is untrusted)."""
        token = getattr(self.processor, "image_token", None)
        return text.replace(token, "image") if isinstance(token, str) and token else text

    def _image_token_ids(self) -> list[int]:
        """The image placeholder's token id(s) of a multimodal model: generation must not emit them, or the
        reply would hold an image slot that recomputing its logprobs (prompt + reply) cannot fill."""
        token = getattr(self.processor, "image_token", None)
        ids = self.tokenizer.convert_tokens_to_ids([token]) if isinstance(token, str) and token else []
        return [int(i) for i in ids if i is not None and i != self.tokenizer.unk_token_id]

    def apply_chat(self, prompt: ChatPrompt) -> list[int]:
        """Prompt token ids exactly as :meth:`generate` feeds them to the model (text-only models;
        for multimodal models the ids include the processor's image tokens)."""
        if self.multimodal and images_of(prompt):
            return self._mm_inputs([prompt])["input_ids"][0].tolist()
        return list(self.tokenizer(self.chat_text(prompt), add_special_tokens=False)["input_ids"])

    def apply_chat_many(self, prompts: Sequence[ChatPrompt]) -> list[list[int]]:
        """:meth:`apply_chat` of each prompt; text-only prompts go through one batched tokenizer call."""
        if self.multimodal and any(images_of(p) for p in prompts):
            return [self.apply_chat(p) for p in prompts]
        if not prompts:
            return []
        texts = [self.chat_text(p) for p in prompts]
        return [list(ids) for ids in self.tokenizer(texts, add_special_tokens=False)["input_ids"]]

    def encode(self, text: str) -> list[int]:
        """Token ids of a reply text (no special tokens added)."""
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _mm_inputs(self, prompts: Sequence[ChatPrompt]) -> Any:
        from PIL import Image

        texts = [self.chat_text(p) for p in prompts]
        images = [[Image.fromarray(img) for img in images_of(p)] for p in prompts]
        kwargs: dict[str, Any] = {"text": texts, "return_tensors": "pt", "padding": True}
        if any(images):
            kwargs["images"] = images
        tok = self.processor.tokenizer
        old_side, tok.padding_side = tok.padding_side, "left"
        try:
            return self.processor(**kwargs)
        finally:
            tok.padding_side = old_side

    def _left_pad(self, seqs: Sequence[Sequence[int]]) -> tuple[Any, Any]:
        import torch

        width = max(len(s) for s in seqs)
        pad = int(self.tokenizer.pad_token_id)
        ids = torch.full((len(seqs), width), pad, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, s in enumerate(seqs):
            if s:
                ids[i, width - len(s) :] = torch.tensor(list(s), dtype=torch.long)
                mask[i, width - len(s) :] = 1
        return ids.to(self.device), mask.to(self.device)

    # -- generation --------------------------------------------------------------------------------
    def generate(self, prompts: Sequence[ChatPrompt], sampling: SamplingParams | None = None) -> list[Completion]:
        """Sample one reply per prompt; see :class:`~arena.agents.backends.base.Completion`."""
        sampling = sampling or SamplingParams()
        out: list[Completion] = []
        for start in range(0, len(prompts), self.max_batch_size):
            out.extend(self._generate_chunk(prompts[start : start + self.max_batch_size], sampling))
        return out

    def generate_ids(
        self, prompt_ids: Sequence[Sequence[int]], sampling: SamplingParams | None = None
    ) -> list[Completion]:
        """Token-in generation (text-only models): sample one reply per list of prompt ids."""
        sampling = sampling or SamplingParams()
        out: list[Completion] = []
        for start in range(0, len(prompt_ids), self.max_batch_size):
            chunk = [list(p) for p in prompt_ids[start : start + self.max_batch_size]]
            ids, mask = self._left_pad(chunk)
            out.extend(self._run_generate({"input_ids": ids, "attention_mask": mask}, chunk, sampling))
        return out

    def _generate_chunk(self, prompts: Sequence[ChatPrompt], sampling: SamplingParams) -> list[Completion]:
        if self.multimodal and any(images_of(p) for p in prompts):
            inputs = {k: v.to(self.device) for k, v in self._mm_inputs(prompts).items()}
            mask = inputs["attention_mask"]
            prompt_ids = [row[m.bool()].tolist() for row, m in zip(inputs["input_ids"], mask, strict=True)]
            return self._run_generate(inputs, prompt_ids, sampling)
        prompt_ids = [self.apply_chat(p) for p in prompts]
        ids, mask = self._left_pad(prompt_ids)
        return self._run_generate({"input_ids": ids, "attention_mask": mask}, prompt_ids, sampling)

    def _run_generate(
        self, inputs: dict[str, Any], prompt_ids: list[list[int]], sampling: SamplingParams
    ) -> list[Completion]:
        import torch
        from transformers import LogitsProcessorList

        if sampling.max_new_tokens < 1:
            return [Completion("", p, [], [], "length") for p in prompt_ids]
        greedy = sampling.temperature <= 0
        kwargs: dict[str, Any] = {
            **_neutral_generation(),
            "max_new_tokens": int(sampling.max_new_tokens),
            "do_sample": not greedy,
            "temperature": None if greedy else float(sampling.temperature),
            "top_p": None if greedy else float(sampling.top_p),
            "return_dict_in_generate": True,
            "pad_token_id": int(self.tokenizer.pad_token_id),
            "eos_token_id": sorted(self.eos_ids) or None,
        }
        if greedy:
            kwargs["top_k"] = None  # sampling-only: would be flagged as an unused flag
        recorder = ChosenTokenLogprobs()
        processors = [recorder]  # the recorder first: it keeps the raw logprobs, before any suppression
        if self.multimodal and self._image_token_ids():
            from transformers import SuppressTokensLogitsProcessor

            processors.append(SuppressTokensLogitsProcessor(self._image_token_ids(), device=self.device))
        rng = (
            torch.random.fork_rng(devices=self._rng_devices())
            if sampling.seed is not None
            else contextlib.nullcontext()
        )
        with rng, torch.no_grad():
            if sampling.seed is not None:
                torch.manual_seed(int(sampling.seed))
            result = self.model.generate(**inputs, **kwargs, logits_processor=LogitsProcessorList(processors))
        width = inputs["input_ids"].shape[1]
        new_tokens = result.sequences[:, width:]
        logp = recorder.finish(new_tokens)
        outs = []
        for row in range(new_tokens.shape[0]):
            outs.append(self._finish(prompt_ids[row], new_tokens[row].tolist(), logp[row].tolist(), sampling))
        return outs

    def _rng_devices(self) -> list[int]:
        """The CUDA devices whose generator a seeded call forks besides the CPU's (``manual_seed`` reseeds them,
        and a seeded call must leave the unseeded sampling that follows as it was)."""
        import torch

        if self.device.type != "cuda":
            return []
        return [self.device.index if self.device.index is not None else torch.cuda.current_device()]

    def _finish(
        self, prompt_ids: list[int], tokens: list[int], logps: list[float], sampling: SamplingParams
    ) -> Completion:
        """Cut a raw generated row at its end token / stop string and decode it."""
        reason = "length"
        for i, tok in enumerate(tokens):
            if tok in self.eos_ids:
                tokens, logps, reason = tokens[: i + 1], logps[: i + 1], "stop"
                break
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        if sampling.stop and cut_at_stop(text, sampling.stop) is not None:
            # Keep the shortest prefix of tokens whose text contains a stop string.
            for k in range(1, len(tokens) + 1):
                piece = self.tokenizer.decode(tokens[:k], skip_special_tokens=True)
                end = cut_at_stop(piece, sampling.stop)
                if end is not None:
                    tokens, logps, text, reason = tokens[:k], logps[:k], piece[:end], "stop"
                    break
        return Completion(
            text=text, prompt_ids=list(prompt_ids), completion_ids=tokens, logprobs=logps, finish_reason=reason
        )

    # -- scoring -----------------------------------------------------------------------------------
    def score(self, prompts: Sequence[ChatPrompt], continuations: Sequence[str]) -> list[Scored]:
        """Per-token logprobs of each continuation text after its prompt (teacher forcing)."""
        if len(prompts) != len(continuations):
            raise ArenaError(f"score: {len(prompts)} prompts but {len(continuations)} continuations")
        if self.multimodal and any(images_of(p) for p in prompts):
            return self._score_images(prompts, continuations)
        cache: dict[int, list[int]] = {}
        prompt_ids = []
        for p in prompts:  # the constrained agent repeats one prompt per legal action
            key = id(p)
            if key not in cache:
                cache[key] = self.apply_chat(p)
            prompt_ids.append(cache[key])
        return self.score_ids(prompt_ids, [self.encode(c) for c in continuations])

    def _score_images(self, prompts: Sequence[ChatPrompt], continuations: Sequence[str]) -> list[Scored]:
        """:meth:`score` of prompts that hold images (a constrained agent in a visual game): each prompt +
        continuation is a row with its prompt's images, the text every row shares before the first image run
        once (:func:`~arena.agents.logits.image_completion_logits`), ``max_batch_size`` rows per pass."""
        import torch

        from arena.agents.logits import completion_token_logprobs, pixel_values

        ids: dict[int, list[int]] = {}  # the constrained agent repeats one prompt per legal action
        for p in prompts:
            if id(p) not in ids:
                ids[id(p)] = self.apply_chat(p)
        out: list[Scored] = []
        pad = int(self.tokenizer.pad_token_id)
        for start in range(0, len(prompts), self.max_batch_size):
            chunk = list(prompts[start : start + self.max_batch_size])
            prompt_ids = [ids[id(p)] for p in chunk]
            conts = [self.encode(c) for c in continuations[start : start + self.max_batch_size]]
            if not any(conts):
                out.extend(Scored(list(p), [], []) for p in prompt_ids)
                continue
            images = [img for p in chunk for img in images_of(p)]
            pixels = pixel_values(images, self.processor) if images else None  # None: a chunk of text-only prompts
            with torch.no_grad():
                logp, _ = completion_token_logprobs(self.model, prompt_ids, conts, pad, pixels, upcast=True)
            for row, (p, c) in enumerate(zip(prompt_ids, conts, strict=True)):
                out.append(Scored(prompt_ids=list(p), continuation_ids=c, logprobs=logp[row, : len(c)].tolist()))
        return out

    def score_ids(
        self,
        prompt_ids: Sequence[Sequence[int]],
        continuation_ids: Sequence[Sequence[int]],
        *,
        share_prefix: bool = True,
    ) -> list[Scored]:
        """Token-level :meth:`score` (text-only models). Where prompts repeat (a constrained agent scores
        every legal action after one prompt), each distinct prompt is run once and its KV cache shared;
        ``share_prefix=False`` runs every prompt + continuation in full (same numbers, to float noise)."""
        import torch

        out: list[Scored] = []
        pairs = list(zip(prompt_ids, continuation_ids, strict=True))
        if share_prefix:
            by_prompt: dict[tuple[int, ...], list[int]] = {}
            for i, (p, _) in enumerate(pairs):
                by_prompt.setdefault(tuple(p), []).append(i)
            if len(by_prompt) < len(pairs):
                return self._score_shared_prefix(pairs, by_prompt)
        for start in range(0, len(pairs), self.max_batch_size):
            chunk = pairs[start : start + self.max_batch_size]
            seqs = [list(p) + list(c) for p, c in chunk]
            ids, mask = self._left_pad(seqs)
            position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
            with torch.no_grad():
                logits = self.model(input_ids=ids, attention_mask=mask, position_ids=position_ids).logits.float()
            logp = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
            width = ids.shape[1]
            for row, (p, c) in enumerate(chunk):
                n = len(c)
                values = logp[row, width - 1 - n : width - 1].tolist() if n else []
                out.append(Scored(prompt_ids=list(p), continuation_ids=list(c), logprobs=values))
        return out

    def _score_shared_prefix(
        self, pairs: Sequence[tuple[Sequence[int], Sequence[int]]], by_prompt: dict[tuple[int, ...], list[int]]
    ) -> list[Scored]:
        """:meth:`score_ids` with each distinct prompt (``by_prompt``: prompt -> indices of its pairs) run once:
        as one sequence holding the prompt then all its continuations, each continuation attending only to
        the prompt and to itself (:meth:`_score_tree`), where the model takes such a mask; else from the
        prompt's KV cache copied to each continuation, ``max_batch_size`` continuations per chunk."""
        results: list[Scored | None] = [None] * len(pairs)
        if self._takes_custom_masks() and all(by_prompt):  # every prompt has a token to predict from
            distinct = list(by_prompt)
            for members in opening_groups(distinct):  # prompts that agree on their first tokens
                self._score_group([distinct[i] for i in members], by_prompt, pairs, results)
            return [r for r in results if r is not None]
        chunk: list[tuple[tuple[int, ...], list[int]]] = []
        size = 0
        for prompt, members in by_prompt.items():
            if chunk and size + len(members) > self.max_batch_size:
                self._score_chunk(chunk, pairs, results)
                chunk, size = [], 0
            chunk.append((prompt, members))
            size += len(members)
        if chunk:
            self._score_chunk(chunk, pairs, results)
        return [r for r in results if r is not None]

    def _takes_custom_masks(self) -> bool:
        """Whether the model takes a custom 4-D additive attention mask (transformers' eager and SDPA
        attention do; flash attention and models without a ``config`` do not)."""
        if not self.prefix_tree:
            return False
        config = getattr(self.model, "config", None)
        return getattr(config, "_attn_implementation", None) in ("eager", "sdpa") and not self.multimodal

    def _score_group(
        self,
        prompts: Sequence[tuple[int, ...]],
        by_prompt: dict[tuple[int, ...], list[int]],
        pairs: Sequence[tuple[Sequence[int], Sequence[int]]],
        results: list[Scored | None],
    ) -> None:
        """Score distinct ``prompts`` that agree on their first tokens (one game's turns: the system prompt and
        the rules): the prefix they all share runs once and its KV cache serves every row
        (:meth:`_score_tree`), in chunks of at most ``max_batch_size`` rows and :data:`TREE_MASK_BUDGET`."""
        import torch

        shared = shared_prompt_prefix(prompts) if self.group_prefix and len(prompts) > 1 else 0
        cache = None
        if shared:
            with torch.no_grad():  # the model may be the trainer's: no graph for a scoring pass
                cache = prefix_cache(self.model, prompts[0][:shared], self.device)
        chunk_rows: list[tuple[tuple[int, ...], list[int]]] = []
        longest = 0
        for prompt in prompts:
            members = by_prompt[prompt]
            length = len(prompt) - shared + sum(len(pairs[i][1]) for i in members)
            rows, width = len(chunk_rows) + 1, max(longest, length)
            if chunk_rows and (rows > self.max_batch_size or rows * width * (shared + width) > TREE_MASK_BUDGET):
                self._score_tree(chunk_rows, pairs, results, shared, cache)
                chunk_rows, width = [], length
            chunk_rows.append((prompt, members))
            longest = width
        if chunk_rows:
            self._score_tree(chunk_rows, pairs, results, shared, cache)

    def _score_tree(
        self,
        chunk: Sequence[tuple[tuple[int, ...], list[int]]],
        pairs: Sequence[tuple[Sequence[int], Sequence[int]]],
        results: list[Scored | None],
        shared: int = 0,
        cache: Any = None,
    ) -> None:
        """Score ``chunk`` (prompt, indices of its pairs) with one row per prompt: the prompt, then each of
        its continuations in turn, positioned right after the prompt and masked so that it sees the prompt
        and its own earlier tokens only. Exactly the numbers of running each pair alone (to float noise),
        with each prompt's tokens computed once and no per-continuation copy of its KV cache. With ``cache``
        (the KV cache of the first ``shared`` tokens, which every prompt of the chunk starts with) a row holds
        only its prompt's tokens after them, and every token also sees the cached prefix."""
        import torch

        rows = []
        for prompt, members in chunk:
            seq, positions, spans = list(prompt[shared:]), list(range(shared, len(prompt))), []
            for i in members:
                cont = list(pairs[i][1])
                spans.append((i, len(seq), len(cont)))
                seq += cont
                positions += range(len(prompt), len(prompt) + len(cont))
            rows.append((len(prompt) - shared, seq, positions, spans))
        width = max(len(seq) for _, seq, _, _ in rows)
        ids = torch.full((len(rows), width), int(self.tokenizer.pad_token_id), dtype=torch.long)
        position_ids = torch.zeros((len(rows), width), dtype=torch.long)
        allowed = torch.zeros((len(rows), width, shared + width), dtype=torch.bool)
        allowed[:, :, :shared] = True  # every token sees the cached prefix
        own = allowed[:, :, shared:]  # a row's own tokens (a view)
        causal = torch.ones((width, width), dtype=torch.bool).tril()
        for r, (length, seq, positions, spans) in enumerate(rows):  # right-padded: content from index 0
            ids[r, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            position_ids[r, : len(seq)] = torch.tensor(positions, dtype=torch.long)
            own[r, :length, :length] = causal[:length, :length]
            for _, start, n in spans:
                own[r, start : start + n, :length] = True
                own[r, start : start + n, start : start + n] = causal[:n, :n]
            pad = torch.arange(len(seq), width)
            own[r, pad, pad] = True  # padding sees itself only (no fully masked row)
        dtype = next(self.model.parameters()).dtype
        mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill_(~allowed, torch.finfo(dtype).min)[:, None]
        # Logits only where a continuation token is predicted: each prompt's last position and every
        # continuation position but the last (a vocabulary of 150k over every prompt token is gigabytes).
        needed = sorted(
            {
                p
                for length, _, _, spans in rows
                for p in [length - 1] + [s + k for _, s, n in spans for k in range(n - 1)]
            }
        )
        kwargs: dict[str, Any] = {}
        keep = torch.tensor(needed, dtype=torch.long, device=self.device)
        if forward_accepts(self.model, "logits_to_keep"):
            kwargs["logits_to_keep"] = keep
        if cache is not None:
            cache_for_rows(cache, shared, len(rows), self.device)  # an earlier chunk's tokens dropped
            kwargs[cache_argument(self.model)] = cache
        with torch.no_grad():
            logits = self.model(
                input_ids=ids.to(self.device),
                attention_mask=mask.to(self.device),
                position_ids=position_ids.to(self.device),
                **kwargs,
            ).logits.float()
            if "logits_to_keep" not in kwargs:
                logits = logits[:, keep]
            logp = torch.log_softmax(logits, dim=-1)
        column = {p: c for c, p in enumerate(needed)}
        for r, (length, seq, _, spans) in enumerate(rows):
            for i, start, n in spans:
                cont = seq[start : start + n]
                where = [column[length - 1]] + [column[start + k] for k in range(n - 1)]
                values = logp[r, where, cont].tolist() if n else []
                results[i] = Scored(prompt_ids=list(pairs[i][0]), continuation_ids=cont, logprobs=values)

    def _score_chunk(
        self,
        chunk: Sequence[tuple[tuple[int, ...], list[int]]],
        pairs: Sequence[tuple[Sequence[int], Sequence[int]]],
        results: list[Scored | None],
    ) -> None:
        import torch

        members = [i for _, m in chunk for i in m]
        rows = torch.tensor([u for u, (_, m) in enumerate(chunk) for _ in m], device=self.device)
        conts = [list(pairs[i][1]) for i in members]
        width = max(len(c) for c in conts)
        if width == 0:
            for i in members:
                results[i] = Scored(prompt_ids=list(pairs[i][0]), continuation_ids=[], logprobs=[])
            return
        ids, mask = self._left_pad([list(p) for p, _ in chunk])
        with torch.no_grad():
            prefix = self.model(
                input_ids=ids, attention_mask=mask, position_ids=(mask.cumsum(-1) - 1).clamp(min=0), use_cache=True
            )
            first = torch.log_softmax(prefix.logits[:, -1].float(), dim=-1)[rows]  # predicts each first token
            cache_arg = cache_argument(self.model)
            cache = returned_cache(prefix, cache_arg)
            cache.batch_select_indices(rows)  # one cache row per continuation (rows repeat)
            pad = int(self.tokenizer.pad_token_id)
            cont = torch.full((len(conts), width), pad, dtype=torch.long)
            cont_mask = torch.zeros((len(conts), width), dtype=torch.long)
            for r, c in enumerate(conts):
                if c:
                    cont[r, : len(c)] = torch.tensor(c, dtype=torch.long)
                    cont_mask[r, : len(c)] = 1
            cont, cont_mask = cont.to(self.device), cont_mask.to(self.device)
            positions = mask.sum(-1)[rows, None] + torch.arange(width, device=self.device)
            logits = self.model(
                input_ids=cont,
                attention_mask=torch.cat([mask[rows], cont_mask], dim=1),
                position_ids=positions,
                **{cache_arg: cache},
            ).logits.float()
            rest = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, cont[:, 1:, None]).squeeze(-1)
            logp = torch.cat([first.gather(1, cont[:, :1]), rest], dim=1)
        for r, i in enumerate(members):
            n = len(conts[r])
            results[i] = Scored(prompt_ids=list(pairs[i][0]), continuation_ids=conts[r], logprobs=logp[r, :n].tolist())

    # -- weights -----------------------------------------------------------------------------------
    def sync_from(self, model: Any) -> None:
        """Take the trainer's weights (a peft-LoRA model's with its adapters merged). For ``self.model`` itself
        (trained in place) only bump ``version``."""
        if model is not self.model:
            import torch

            from arena.agents.backends.weights import full_state_dict

            with torch.no_grad():
                self.model.load_state_dict(full_state_dict(model))
        self.model.eval()
        self.version += 1

    def load_weights(self, path: str) -> None:
        """Load weights from a ``save_pretrained`` directory or a ``.safetensors``/``.pt`` file; bump ``version``."""
        import torch

        p = Path(path)
        if p.is_dir():
            files = sorted(p.glob("*.safetensors")) or sorted(p.glob("pytorch_model*.bin"))
            if not files:
                raise ArenaError(f"no weights (*.safetensors / pytorch_model*.bin) in {path!r}")
        elif p.is_file():
            files = [p]
        else:
            raise ArenaError(f"weights path {path!r} does not exist")
        state: dict[str, Any] = {}
        for f in files:
            if f.suffix == ".safetensors":
                from safetensors.torch import load_file

                state.update(load_file(str(f)))
            else:
                state.update(torch.load(str(f), map_location="cpu", weights_only=True))
        missing, unexpected = self.model.load_state_dict(state, strict=False)
        tied = {k for k in missing if "lm_head" in k}
        if set(missing) - tied or unexpected:
            raise ArenaError(
                f"weights in {path!r} do not match the model: missing {sorted(set(missing) - tied)[:5]}, "
                f"unexpected {sorted(unexpected)[:5]}"
            )
        if tied and getattr(self.model.config, "tie_word_embeddings", False):
            self.model.tie_weights()
        self.model.eval()
        self.version += 1

    def save(self, path: str | os.PathLike[str]) -> Path:
        """``save_pretrained`` the model and tokenizer (and processor) to ``path``; a peft-LoRA model is saved
        with its adapters merged, as a plain model that loads anywhere."""
        from arena.agents.backends.weights import full_state_dict, is_peft_model, plain_model

        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        if is_peft_model(self.model):
            plain_model(self.model).save_pretrained(out, state_dict=full_state_dict(self.model))
        else:
            self.model.save_pretrained(out)
        (self.processor or self.tokenizer).save_pretrained(out)
        return out

    def __repr__(self) -> str:
        return f"TransformersBackend({self.name_or_path!r}, device={str(self.device)!r}, version={self.version})"
