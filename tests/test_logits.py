"""window_logits: logits of a window of positions equal the same slice of the full logits."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from arena.agents.logits import window_logits  # noqa: E402
from arena.agents.tiny import cached_tiny_model  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class _NoKeep(torch.nn.Module):
    """A causal LM whose forward has no ``logits_to_keep`` (older or custom models): the slicing fallback."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask=None):
        return self.model(input_ids=input_ids, attention_mask=attention_mask)


@pytest.mark.parametrize("wrap", [False, True])
def test_window_equals_the_slice_of_the_full_logits(wrap):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(cached_tiny_model())).eval()
    ids = torch.randint(5, 300, (3, 40))
    mask = torch.ones_like(ids)
    mask[2, 30:] = 0  # a right-padded row
    with torch.no_grad():
        full = model(input_ids=ids, attention_mask=mask).logits.float()
        got = window_logits(_NoKeep(model) if wrap else model, ids, mask, 17, 33)
    assert got.shape == (3, 16, full.shape[-1])
    torch.testing.assert_close(got, full[:, 17:33], atol=1e-5, rtol=1e-5)
