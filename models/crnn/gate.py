"""The blank gate: a one-weight-vector test that lets the exported model skip blank frames.

Most CTC frames are blank (about 60 % of a dense English page, 80 % of Chinese lines), yet each
costs the full classifier over ~6.9k classes and its softmax, half the model's time. The gate is a
logistic regression on the BiLSTM features, fitted after training to the model's own greedy
decisions (is the best class the blank?) on synthetic lines from a seed block of its own. Its
threshold is set so that a chosen share (``keep_recall``) of the frames the model reads as a
character is still classified; the others are skipped and reported as blank with the gate's
probability.

:class:`CRNNGatedForExport` is the module exported to ONNX. Its outputs (see ``CONTRACTS.md``):
``frame_probs`` ``[M, C]`` (softmax of the classified frames), ``frame_index`` ``[M]`` (their
positions in the flattened ``[N, T]`` frame grid, increasing) and ``blank_prob`` ``[N, T]`` (the
gate's blank probability of every frame).

Example:
    >>> import torch
    >>> from crnn.model import CRNN
    >>> model = CRNN(num_classes=10).eval()
    >>> gate = fit_blank_gate(model, [torch.rand(1, 1, 32, 64) for _ in range(4)])
    >>> probs, index, blank = CRNNGatedForExport(model, gate)(torch.rand(2, 1, 32, 64))
    >>> blank.shape, probs.shape[0] == index.shape[0]
    (torch.Size([2, 16]), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from crnn.model import CRNN

GATE_SEED_BASE = 3 * 10**9
GATE_LINES = 600
KEEP_RECALL = 0.999


@dataclass
class BlankGate:
    """A fitted gate: frames whose gate logit is above ``threshold`` are skipped.

    Attributes:
        linear: ``Linear(2 * lstm_hidden, 1)``; its logit says "this frame is blank".
        threshold: Skip frames whose logit exceeds this.
        skip_rate: Share of the fitting frames skipped.
        keep_recall: Share of the fitting frames read as a character that are still classified.
    """

    linear: nn.Linear
    threshold: float
    skip_rate: float
    keep_recall: float


def features(model: CRNN, images: torch.Tensor) -> torch.Tensor:
    """BiLSTM features ``[N, T, 2 * hidden]`` (the classifier's input) of normalised images."""
    f = model.cnn(images).squeeze(2).permute(0, 2, 1)
    return model.rnn(f)[0]


@torch.no_grad()
def _frames(model: CRNN, images: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Features of every frame of ``images`` (one ``[1, 1, H, W]`` tensor each) and "is blank"."""
    feats, blank = [], []
    for x in images:
        f = features(model, x)[0]
        feats.append(f)
        blank.append(model.fc(f).argmax(-1) == 0)
    return torch.cat(feats), torch.cat(blank)


GATE_L2 = 1e-4


def fit_blank_gate(model: CRNN, images: Sequence[torch.Tensor], keep_recall: float = KEEP_RECALL) -> BlankGate:
    """Fit the gate to ``model``'s own blank decisions on ``images`` (``[1, 1, H, W]`` each).

    The threshold keeps ``keep_recall`` of the character frames; a model that reads every frame
    of the sample as blank (or none) gets a gate that skips nothing.
    """
    model = model.eval()
    feats, blank = _frames(model, images)
    gen = torch.Generator().manual_seed(0)
    linear = nn.Linear(feats.shape[1], 1)
    with torch.no_grad():
        linear.weight.copy_(torch.randn(linear.weight.shape, generator=gen) * 0.01)
        linear.bias.zero_()
    if blank.all() or not blank.any():
        with torch.no_grad():
            linear.weight.zero_()
            linear.bias.fill_(-1.0)
        return BlankGate(linear, 0.0, 0.0, 1.0)
    target = blank.float()
    opt = torch.optim.LBFGS(linear.parameters(), max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(linear(feats).squeeze(1), target)
        # A little L2 keeps the weights bounded where the blank frames are linearly separable
        # (the logistic loss would push them towards infinity, and float noise would then flip
        # frames near the threshold between PyTorch and onnxruntime).
        loss = loss + GATE_L2 * linear.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        logit = linear(feats).squeeze(1)
        threshold = float(torch.quantile(logit[~blank], keep_recall))
        skip = logit > threshold
        recall = float((~skip[~blank]).float().mean())
    return BlankGate(linear, threshold, float(skip.float().mean()), recall)


def synthetic_gate_images(count: int = GATE_LINES, seed_base: int = GATE_SEED_BASE) -> list[torch.Tensor]:
    """Normalised synthetic lines from the gate's own seed block (disjoint from training,
    validation and INT8 calibration)."""
    from crnn.data import to_tensor
    from crnn.synth import LineGenerator

    gen = LineGenerator()
    return [to_tensor([gen.sample(seed_base + i).image]) for i in range(count)]


class CRNNGatedForExport(nn.Module):
    """The exported model: CRNN features, the gate, and the classifier on the frames it keeps."""

    def __init__(self, model: CRNN, gate: BlankGate):
        super().__init__()
        self.model = model
        self.gate = gate.linear
        self.threshold = float(gate.threshold)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        f = features(self.model, x)
        n, t, c = f.shape
        flat = f.reshape(n * t, c)
        logit = self.gate(flat).squeeze(1)
        index = torch.nonzero(logit <= self.threshold).squeeze(1)
        probs = torch.softmax(self.model.fc(flat.index_select(0, index)), dim=-1)
        return probs, index, torch.sigmoid(logit).reshape(n, t)
