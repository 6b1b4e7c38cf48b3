"""The CRNN: a small VGG-style CNN, one BiLSTM, a linear classifier, trained with CTC.

Input ``[N, 1, 32, W]`` (normalised gray), output ``[N, W/4, C]`` class scores. The CNN halves
height and width twice, then halves height twice more and collapses the last two rows with a
``(2, 1)`` convolution, so every output step sees a 4-pixel-wide column stripe with a wide
receptive field. Sized for CPU: ~2.55 M parameters, of which the classifier over ~6.9k classes
is ~1.8 M.

Example:
    >>> import torch
    >>> from crnn.model import CRNN
    >>> model = CRNN(num_classes=100).eval()
    >>> model(torch.zeros(2, 1, 32, 128)).shape
    torch.Size([2, 32, 100])
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class CRNNConfig:
    """Architecture hyper-parameters (stored in checkpoints so a resume rebuilds the same net)."""

    num_classes: int
    channels: tuple[int, ...] = (32, 64, 96, 96, 160, 256)
    lstm_hidden: int = 128
    dropout: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)


def _conv(cin: int, cout: int, kernel=(3, 3), padding=(1, 1)) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=padding, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class CRNN(nn.Module):
    """CNN → BiLSTM → Linear. Returns raw logits ``[N, T, C]``; T = W // 4."""

    def __init__(self, num_classes: int | None = None, config: CRNNConfig | None = None):
        super().__init__()
        if config is None:
            if num_classes is None:
                raise ValueError("give num_classes or config")
            config = CRNNConfig(num_classes=num_classes)
        self.config = config
        c = config.channels
        self.cnn = nn.Sequential(
            _conv(1, c[0]), nn.MaxPool2d(2, 2),            # 16 x W/2
            _conv(c[0], c[1]), nn.MaxPool2d(2, 2),         # 8 x W/4
            _conv(c[1], c[2]), _conv(c[2], c[3]),
            nn.MaxPool2d((2, 1), (2, 1)),                  # 4 x W/4
            _conv(c[3], c[4]), nn.MaxPool2d((2, 1), (2, 1)),  # 2 x W/4
            _conv(c[4], c[5], kernel=(2, 1), padding=(0, 0)),  # 1 x W/4
        )
        self.rnn = nn.LSTM(c[5], config.lstm_hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(config.dropout)
        self.fc = nn.Linear(2 * config.lstm_hidden, config.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.cnn(x)                       # [N, C, 1, T]
        f = f.squeeze(2).permute(0, 2, 1)     # [N, T, C]
        f, _ = self.rnn(f)
        return self.fc(self.dropout(f))


class CRNNForExport(nn.Module):
    """Wraps :class:`CRNN` to emit softmax probabilities, the ONNX model's output."""

    def __init__(self, model: CRNN):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(x), dim=-1)
