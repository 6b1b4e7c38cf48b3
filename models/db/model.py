"""The DB detector: a plain-conv backbone, an FPN merge to 1/4, and the DB heads.

Input ``[N, 3, H, W]`` (BGR / 255 normalised with :data:`MEAN` / :data:`STD`, H and W multiples
of 32). The backbone halves the resolution five times (plain 3x3 convs + BN + ReLU, each stage
a stride-2 conv and a residual 3x3 conv: no depthwise convs, which train slowly on CPU); the
neck merges 1/32..1/4 top-down (FPN) and concatenates the levels at 1/4; each head is a 3x3
conv and two 2x transposed convs back to the input size (as in DB). Training gives the
probability map, the threshold map and the approximate binary map
``sigmoid(k (P - T))``; :class:`DBForExport` gives the probability map alone, ``[N, 1, H, W]``.
The default :class:`DBConfig` has 0.52 M parameters (a 2.06 MB float32 ONNX file) and runs a
960 x 704 input in ~50-60 ms on one onnxruntime thread (this machine, lightly loaded; PP-OCRv6
tiny's detector takes ~3.4x as long side by side).

Example:
    >>> import torch
    >>> from db.model import DBNet
    >>> net = DBNet().eval()
    >>> net(torch.zeros(1, 3, 96, 160)).shape
    torch.Size([1, 1, 96, 160])
    >>> sorted(net.train()(torch.zeros(2, 3, 64, 64)))
    ['binary', 'prob', 'prob_logit', 'thresh']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

# Pixel normalisation (BGR order, of pixels / 255), written to the ONNX metadata.
MEAN = (0.5, 0.5, 0.5)
STD = (0.25, 0.25, 0.25)
STRIDE = 32  # input sides must be multiples of this


@dataclass(frozen=True)
class DBConfig:
    """Architecture hyper-parameters (stored in checkpoints so a resume rebuilds the same net)."""

    channels: tuple[int, ...] = (16, 24, 32, 64, 128)  # stages at 1/2, 1/4, 1/8, 1/16, 1/32
    blocks: tuple[int, ...] = (0, 1, 1, 2, 2)  # residual 3x3 convs after each stage's stride-2 conv
    inner: int = 32  # FPN width; the 1/4 merge concatenates four levels of inner // 4
    head: int = 16  # width of the heads' first conv
    k: float = 50.0  # DB's amplifying factor of the approximate binary map

    def to_dict(self) -> dict:
        return asdict(self)


def _conv(cin: int, cout: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class _Stage(nn.Module):
    """A stride-2 conv, then ``blocks`` residual 3x3 convs (``relu(x + bn(conv(x)))``)."""

    def __init__(self, cin: int, cout: int, blocks: int = 1):
        super().__init__()
        self.down = _conv(cin, cout, 2)
        self.res = nn.ModuleList([nn.Sequential(nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
                                  for _ in range(blocks)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.down(x)
        for res in self.res:
            x = F.relu(x + res(x))
        return x


class _Head(nn.Module):
    """1/4-resolution features -> one map at the input size (logits)."""

    def __init__(self, cin: int, width: int):
        super().__init__()
        self.body = nn.Sequential(
            _conv(cin, width),
            nn.ConvTranspose2d(width, width, 2, 2, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(width, 1, 2, 2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class DBNet(nn.Module):
    """Backbone + FPN + DB heads. In training mode returns a dict of ``prob``, ``thresh``, ``binary``
    (each ``[N, 1, H, W]``, probabilities) and ``prob_logit``; in eval mode the probability map alone."""

    def __init__(self, config: DBConfig | None = None):
        super().__init__()
        self.config = config = config or DBConfig()
        c = config.channels
        self.stages = nn.ModuleList([_Stage(3 if i == 0 else c[i - 1], c[i], config.blocks[i]) for i in range(len(c))])
        inner, quarter = config.inner, config.inner // 4
        self.lateral = nn.ModuleList([nn.Conv2d(ch, inner, 1, bias=False) for ch in c[1:]])
        self.smooth = nn.ModuleList([nn.Conv2d(inner, quarter, 3, 1, 1, bias=False) for _ in c[1:]])
        self.prob_head = _Head(quarter * len(c[1:]), config.head)
        self.thresh_head = _Head(quarter * len(c[1:]), config.head)
        # DB's initialisation of the probability head's last bias: text is rare.
        nn.init.constant_(self.prob_head.body[-1].bias, -2.0)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The merged ``[N, inner, H/4, W/4]`` features."""
        levels = []
        for stage in self.stages:
            x = stage(x)
            levels.append(x)
        lat = [conv(f) for conv, f in zip(self.lateral, levels[1:])]  # 1/4 .. 1/32
        for i in range(len(lat) - 2, -1, -1):
            lat[i] = lat[i] + F.interpolate(lat[i + 1], size=lat[i].shape[-2:], mode="nearest")
        size = lat[0].shape[-2:]
        outs = [conv(f) for conv, f in zip(self.smooth, lat)]
        outs = [outs[0]] + [F.interpolate(o, size=size, mode="nearest") for o in outs[1:]]
        return torch.cat(outs, 1)

    def forward(self, x: torch.Tensor):
        f = self.features(x)
        logit = self.prob_head(f)
        prob = torch.sigmoid(logit)
        if not self.training:
            return prob
        thresh = torch.sigmoid(self.thresh_head(f))
        binary = torch.sigmoid(self.config.k * (prob - thresh))
        return {"prob": prob, "prob_logit": logit, "thresh": thresh, "binary": binary}


class DBForExport(nn.Module):
    """The probability map only, ``[N, 1, H, W]``: the ONNX model's output."""

    def __init__(self, model: DBNet):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.model.prob_head(self.model.features(x)))


def param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
