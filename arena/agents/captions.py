"""Caption steps: teach a vision-language model to read the pictures of the visual games before it plays them.

A tiny VLM built from scratch has a random image path. Behaviour cloning on game play alone does not train it
to look: the game's replies depend on the picture only weakly, and at the warm start's usual learning rate
(3e-3) the image features collapse to one vector the model then ignores (docs/results.md, visual spy).
Captions depend on nothing but the picture, so a few hundred steps of them at 1e-3 give a model whose replies
change with its image. The pictures are the ones :mod:`arena.envs.scenes` draws for visual spy (CLEVR-like
scenes and charts, drawn locally: nothing is downloaded), each with :func:`arena.envs.scenes.caption` as the
target after a fixed question.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from arena.agents.answers import format_answer
from arena.agents.llm import blank_image
from arena.agents.logits import image_completion_logits, pixel_values
from arena.core.errors import ArenaError
from arena.envs import scenes

QUESTION = "Describe your image."
SCENE_KINDS = ("clevr", "chart", "mixed")
#: One caption example: prompt ids (with the image's tokens), reply ids, the picture.
CaptionExample = tuple[list[int], list[int], np.ndarray]


def random_picture(rng: np.random.Generator, kind: str = "mixed") -> scenes.Scene | scenes.Chart:
    """A scene, a chart, or (``mixed``) either with even odds, as visual spy deals them."""
    if kind not in SCENE_KINDS:
        raise ArenaError(f"caption pictures are one of {SCENE_KINDS}, got {kind!r}")
    if kind == "mixed":
        kind = "clevr" if rng.random() < 0.5 else "chart"
    return scenes.random_scene(rng) if kind == "clevr" else scenes.random_chart(rng)


def caption_example(backend: Any, rng: np.random.Generator, *, kind: str = "mixed", side: int = 96) -> CaptionExample:
    """One example from a fresh random picture of ``side`` pixels: the question with the image, the caption
    as an answer (the games' ``<answer>`` format) followed by the end-of-turn token."""
    picture = random_picture(rng, kind)
    image = scenes.render(picture, side)
    prompt = [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": QUESTION}]}]
    reply = list(backend.encode(format_answer(scenes.caption(picture))))
    eos = backend.tokenizer.eos_token_id
    return list(backend.apply_chat(prompt)), reply + ([int(eos)] if eos is not None else []), image


def reply_token_nll(
    backend: Any,
    prompts: Sequence[list[int]],
    replies: Sequence[list[int]],
    images: Sequence[np.ndarray],
    *,
    blank: bool = False,
) -> tuple[Any, Any]:
    """Each reply token's cross-entropy after its prompt and picture, and the mask of real reply tokens (both
    ``[batch, tokens]``); with ``blank`` every image is the flat grey picture that ``blank_images`` shows."""
    import torch

    logits, targets, mask = image_completion_logits(
        backend.model,
        list(prompts),
        list(replies),
        int(backend.tokenizer.pad_token_id),
        pixel_values([blank_image(image) if blank else image for image in images], backend.processor),
    )
    nll = torch.nn.functional.cross_entropy(logits.float().transpose(1, 2), targets, reduction="none")
    return nll, mask


def caption_loss(backend: Any, batch: Sequence[CaptionExample], *, blank: bool = False) -> Any:
    """Mean token cross-entropy of the captions after their prompts; with ``blank`` every image is the flat
    grey picture that ``blank_images`` shows (the same loss with nothing to see)."""
    nll, mask = reply_token_nll(
        backend,
        [prompt for prompt, _, _ in batch],
        [reply for _, reply, _ in batch],
        [image for _, _, image in batch],
        blank=blank,
    )
    return (nll * mask).sum() / mask.sum()


def held_out_gap(backend: Any, examples: Sequence[CaptionExample], batch_size: int = 16) -> tuple[float, float]:
    """Mean caption loss of ``examples`` with their images and with grey ones: a gap means the model reads them."""
    import torch

    chunks = [examples[i : i + batch_size] for i in range(0, len(examples), batch_size)]
    was_training = backend.model.training
    backend.model.eval()
    with torch.no_grad():
        seen = float(np.mean([caption_loss(backend, c).item() for c in chunks]))
        grey = float(np.mean([caption_loss(backend, c, blank=True).item() for c in chunks]))
    backend.model.train(was_training)
    return seen, grey


def train_captions(
    backend: Any,
    *,
    steps: int,
    lr: float = 1e-3,
    batch_size: int = 16,
    kind: str = "mixed",
    side: int = 96,
    blank: bool = False,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
    log_every: int = 100,
    after_step: Callable[[int], None] | None = None,
) -> list[float]:
    """``steps`` AdamW steps on batches of fresh captioned pictures (constant ``lr``, gradients clipped at 1);
    returns the loss curve. ``blank`` trains on grey pictures instead (the ``blank_images`` twin of a run,
    which then learns the captions' text only). ``after_step(step)`` runs after each step (1-based), for
    probes that evaluate along the way. Needs a model with an image processor."""
    import torch

    if getattr(backend, "processor", None) is None or not getattr(backend, "multimodal", False):
        raise ArenaError("caption steps need an image-text-to-text model and its processor; this model is text-only")
    rng = np.random.default_rng(seed)
    model = backend.model
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    model.train()
    losses: list[float] = []
    start = time.perf_counter()
    for step in range(steps):
        batch = [caption_example(backend, rng, kind=kind, side=side) for _ in range(batch_size)]
        loss = caption_loss(backend, batch, blank=blank)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        losses.append(float(loss.detach()))
        if log and (step % log_every == 0 or step == steps - 1):
            recent = float(np.mean(losses[-log_every:]))
            log(f"caption step {step + 1}/{steps}  loss {recent:.4f}  {time.perf_counter() - start:.0f}s")
        if after_step is not None:
            after_step(step + 1)
            model.train()
    optimizer.zero_grad(set_to_none=True)
    model.eval()
    return losses
