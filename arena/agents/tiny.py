"""Build a tiny Qwen2- or Llama-architecture chat model locally, with no download.

The model has random weights and a byte-level BPE tokenizer trained on the fly on text from arena's own
games (their observations, the LLM agent's system prompts and answer format), so prompts tokenize
compactly. It is saved with ``save_pretrained`` and loads through exactly the same
``AutoTokenizer``/``AutoModelForCausalLM.from_pretrained`` path as a real checkpoint. Defaults (about
1.0 M parameters) are sized so that RL on 2 CPU cores is practical; :mod:`arena.agents.warmstart` teaches
it the answer format.

Example::

    from arena.agents.tiny import build_tiny_model
    path = build_tiny_model("models/tiny")          # config.json, model.safetensors, tokenizer files
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from arena.core.errors import ArenaError
from arena.core.options import integer_option, number_option

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>")
#: A Qwen/ChatML-style template; contents must already be strings (backends flatten multimodal parts).
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
ARCHS = ("qwen2", "llama")
#: Settings the tokenizer's corpus plays a game with, where they differ from its defaults: household's
#: command labels ([3], added 2026-12-02) are left out so that every tiny model built before keeps its
#: tokenizer and the documented results stay reproducible; digits and brackets are in the corpus anyway.
CORPUS_ENV_KWARGS = {"household-v0": {"numbered": False}}
_SPLIT = {
    # transformers' Qwen2Tokenizer.PRETOKENIZE_REGEX
    "qwen2": r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
    "llama": r"[0-9\[\]<>|\n/]",
}


def _game_corpus(seed: int, matches_per_env: int) -> Iterator[str]:
    """Observation texts from random play of every registered game, with the LLM agent's system prompt,
    answer instructions and answers."""
    import numpy as np

    import arena
    from arena.agents.prompts import answer_spec, example_answer, system_prompt_for, turn_instructions

    yield "<think></think><answer></answer> <think> </think> <answer> </answer>"
    for spec in arena.list_envs():
        yield system_prompt_for(spec.id)
        try:
            env = arena.make(spec.id, **CORPUS_ENV_KWARGS.get(spec.id, {}))
        except Exception:  # a game that cannot be built with defaults adds nothing
            continue
        rng = np.random.default_rng(seed)
        for m in range(matches_per_env):
            try:
                env.reset(seed=seed + m)
                for steps, _agent in enumerate(env.agent_iter()):
                    if steps > 200:
                        break
                    obs, _, term, trunc, info = env.last()
                    if term or trunc:
                        env.step(None)
                        continue
                    text = str(obs.get("text", "")) if isinstance(obs, dict) else str(obs)
                    turn = answer_spec(info)
                    yield text
                    yield turn_instructions(turn, text)
                    for action in turn.replies or (example_answer(turn),):
                        yield f"<think></think><answer>{action}</answer>"
                    legal = turn.legal
                    action = str(legal[int(rng.integers(len(legal)))]) if legal else "pass"
                    env.step(action)
            except Exception:
                continue


def build_tokenizer(corpus: Iterable[str], vocab_size: int = 2048, max_token_length: int = 24, arch: str = "qwen2"):
    """A byte-level BPE ``PreTrainedTokenizerFast`` (left padding, ChatML template) trained on ``corpus``.

    ``AutoTokenizer`` re-creates a Qwen2 model's tokenizer as ``Qwen2Tokenizer``, which imposes Qwen2's
    pre-tokenizer regex; training with that same regex keeps the saved merges meaningful. Llama models
    load as ``TokenizersBackend`` and keep a more compact split: digits, brackets, tags and newlines
    stay single tokens while runs of words merge across spaces.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_SPLIT[arch]), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        max_token_length=max_token_length,
        show_progress=False,
    )
    tok.train_from_iterator(list(corpus), trainer)
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|endoftext|>",
        eos_token="<|im_end|>",
        pad_token="<|pad|>",
        padding_side="left",
    )
    hf_tok.chat_template = CHAT_TEMPLATE
    return hf_tok


def check_model_options(**options: Any) -> None:
    """Refuse :func:`build_tiny_model` options it cannot build (its keyword arguments; one not given takes its
    default) with an :class:`ArenaError` naming the first: ``build_tiny_model`` runs it first, and a training
    config as it reads its ``tiny_model`` section."""
    defaults = {
        name: p.default
        for name, p in inspect.signature(build_tiny_model).parameters.items()
        if p.default is not p.empty
    }
    value = {**defaults, **options}
    if value["arch"] not in ARCHS:
        raise ArenaError(f"arch must be one of {ARCHS}, got {value['arch']!r}")
    sizes = (
        "hidden_size",
        "num_layers",
        "intermediate_size",
        "num_heads",
        "num_kv_heads",
        "vocab_size",
        "max_position_embeddings",
        "matches_per_env",
    )
    for name in sizes:
        integer_option(value[name], name, 1)
    if value["hidden_size"] % value["num_heads"] or value["num_heads"] % value["num_kv_heads"]:
        raise ArenaError("hidden_size must be divisible by num_heads, and num_heads by num_kv_heads")
    integer_option(value["pretrain_steps"], "pretrain_steps", 0)
    integer_option(value["seed"], "seed", 0)
    number_option(value["initializer_range"], "initializer_range", positive=True, hint="the weights' init std")


def build_tiny_model(
    out_dir: str | os.PathLike[str],
    arch: str = "qwen2",
    seed: int = 0,
    *,
    hidden_size: int = 128,
    num_layers: int = 4,
    intermediate_size: int = 384,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    vocab_size: int = 2048,
    max_position_embeddings: int = 2048,
    initializer_range: float = 0.08,
    corpus: Iterable[str] | None = None,
    matches_per_env: int = 20,
    pretrain_steps: int = 0,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Build, save and return the directory of a tiny random-weight chat model.

    ``arch`` is ``"qwen2"`` or ``"llama"``. ``corpus`` replaces the default tokenizer corpus (text of
    arena's registered games). The result loads with ``AutoModelForCausalLM.from_pretrained(out_dir)``.
    ``initializer_range`` is the weights' init std: at the 0.02 of large models a width-128 model's
    attention stays uniform over a 300-token prompt for ~100 Adam steps, so it cannot tell a Kuhn Poker
    card from the rest of the prompt in time; at 0.08 it learns to within ~40 steps (docs/results.md).
    ``pretrain_steps`` > 0 then trains that many steps of :mod:`arena.agents.pretrain` (copying and picking
    from the latest list, on random tokens; ``arena model init-tiny --pretrain-steps``), logged to ``log``.
    """
    check_model_options(
        arch=arch,
        seed=seed,
        hidden_size=hidden_size,
        num_layers=num_layers,
        intermediate_size=intermediate_size,
        num_heads=num_heads,
        num_kv_heads=num_kv_heads,
        vocab_size=vocab_size,
        max_position_embeddings=max_position_embeddings,
        initializer_range=initializer_range,
        matches_per_env=matches_per_env,
        pretrain_steps=pretrain_steps,
    )
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ArenaError(f"{out} is a file; the model needs a folder")
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ArenaError(f"cannot make the model folder {out}: {err.strerror or err}") from None
    texts = list(corpus) if corpus is not None else list(_game_corpus(seed, matches_per_env))
    tokenizer = build_tokenizer(texts, vocab_size, arch=arch)
    config_cls, model_cls = (Qwen2Config, Qwen2ForCausalLM) if arch == "qwen2" else (LlamaConfig, LlamaForCausalLM)
    config = config_cls(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        max_position_embeddings=max_position_embeddings,
        initializer_range=initializer_range,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_cls(config)
        if pretrain_steps:
            from arena.agents.pretrain import synthetic_pretrain

            synthetic_pretrain(model, tokenizer, steps=pretrain_steps, seed=seed, log=log)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    tokenizer.save_pretrained(out)
    model.save_pretrained(out)
    return out


_CACHE: dict[tuple[str, int], Path] = {}


def cached_tiny_model(arch: str = "qwen2", seed: int = 0) -> Path:
    """An extra-small model (2 layers, width 64) built once per process in a temporary directory, for tests."""
    import tempfile

    key = (arch, seed)
    path = _CACHE.get(key)
    if path is None or not (path / "config.json").exists():
        path = build_tiny_model(
            Path(tempfile.mkdtemp(prefix=f"arena-tiny-{arch}-")),
            arch,
            seed,
            hidden_size=64,
            num_layers=2,
            intermediate_size=192,
            matches_per_env=1,
        )
        _CACHE[key] = path
    return path


#: ChatML with image parts rendered as the processor's ``<image>`` token.
VLM_CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% if m['content'] is string %}{{ m['content'] }}"
    "{% else %}{% for c in m['content'] %}{% if c['type'] == 'image' %}<image>{% else %}{{ c['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_vlm(
    out_dir: str | os.PathLike[str],
    seed: int = 0,
    *,
    image_size: int = 16,
    patch_size: int = 8,
    hidden_size: int = 64,
    num_layers: int = 1,
    intermediate_size: int = 128,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    initializer_range: float = 0.02,
    game_corpus: bool = False,
    matches_per_env: int = 20,
    vision_hidden_size: int = 32,
    vision_layers: int = 1,
) -> Path:
    """Build and save a tiny random LLaVA (CLIP vision tower + Qwen2 text model) with its processor, locally.

    It loads through ``AutoProcessor`` / ``AutoModelForImageTextToText.from_pretrained`` (the
    ``TransformersBackend`` multimodal path); images are resized to ``image_size`` pixels square, cut into
    ``patch_size`` patches (one image token each, plus one). The defaults are the smallest that work, for
    tests: a one-layer text model whose tokenizer knows little more than bytes. To play a game, give the
    text model :func:`build_tiny_model`'s size (``hidden_size=128, num_layers=4, intermediate_size=384,
    initializer_range=0.08``) and ``game_corpus=True``: its tokenizer is then trained on the registered
    games' text, as the text model's is, so a visual-spy prompt takes about a third of the tokens
    (``matches_per_env``: random matches per game in that corpus). The vision tower is a CLIP encoder of
    ``vision_layers`` layers of width ``vision_hidden_size``.
    """
    import tempfile

    import torch
    from transformers import (
        AutoTokenizer,
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
        Qwen2Config,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    small_corpus = [VLM_CHAT_TEMPLATE, "<think></think><answer>[4]</answer>", "Which cell is red? [0] [1] [2]"] * 10
    text_dir = build_tiny_model(  # its tokenizer (the weights are made again below, inside the LLaVA)
        Path(tempfile.mkdtemp(prefix="arena-vlm-text-")),
        seed=seed,
        hidden_size=hidden_size,
        num_layers=num_layers,
        intermediate_size=intermediate_size,
        num_heads=num_heads,
        num_kv_heads=num_kv_heads,
        corpus=None if game_corpus else small_corpus,
        matches_per_env=matches_per_env,
    )
    tok = AutoTokenizer.from_pretrained(text_dir)
    tok.add_special_tokens({"additional_special_tokens": ["<image>"]})
    tok.chat_template = VLM_CHAT_TEMPLATE
    crop = {"height": image_size, "width": image_size}
    image_processor = CLIPImageProcessor(size={"shortest_edge": image_size}, crop_size=crop, do_center_crop=True)
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tok,
        patch_size=patch_size,
        vision_feature_select_strategy="default",
        chat_template=VLM_CHAT_TEMPLATE,
        image_token="<image>",
        num_additional_image_tokens=1,
    )
    vision = CLIPVisionConfig(
        hidden_size=vision_hidden_size,
        intermediate_size=2 * vision_hidden_size,
        num_hidden_layers=vision_layers,
        num_attention_heads=2,
        image_size=image_size,
        patch_size=patch_size,
        projection_dim=32,
    )
    text = Qwen2Config(
        vocab_size=len(tok),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        initializer_range=initializer_range,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=tok.convert_tokens_to_ids("<image>"),
        vision_feature_layer=-1,
        vision_feature_select_strategy="default",
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlavaForConditionalGeneration(config)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out
