"""The recognition model's metadata (see CONTRACTS.md, "The recognition model file").

Example:
    >>> meta = ModelMeta.from_mapping({"charset": '["a", "b"]', "input_height": "32"})
    >>> meta.input_height, meta.num_classes
    (32, 3)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from ocr_engine.errors import ModelError


@dataclass(frozen=True)
class ModelMeta:
    """Charset and input specification read from the ONNX ``metadata_props``.

    Attributes:
        charset: Characters of classes ``1..C-1`` (class ``blank_index`` is the blank).
        input_height: Height every line is resized to.
        input_channels: Number of input channels (1: grayscale).
        norm_mean: ``x = (gray / 255 - norm_mean) / norm_std``.
        norm_std: See ``norm_mean``.
        width_stride: Input pixels per output frame.
        model_name: Name reported in results.
        model_version: Version reported in results.
        blank_index: CTC blank class.
    """

    charset: tuple[str, ...]
    input_height: int = 32
    input_channels: int = 1
    norm_mean: float = 0.5
    norm_std: float = 0.5
    width_stride: int = 4
    model_name: str = "unknown"
    model_version: str = "0"
    blank_index: int = 0

    @property
    def num_classes(self) -> int:
        """Number of output classes including the blank."""
        return len(self.charset) + 1

    @classmethod
    def from_mapping(cls, meta: Mapping[str, str]) -> ModelMeta:
        """Parse the string map returned by ``custom_metadata_map``.

        Raises:
            ModelError: If ``charset`` is missing or any value is malformed.
        """
        if "charset" not in meta:
            raise ModelError("model metadata has no 'charset' entry (see CONTRACTS.md)")
        try:
            charset = json.loads(meta["charset"])
            if not isinstance(charset, list) or not all(isinstance(c, str) for c in charset):
                raise ValueError("charset must be a JSON list of strings")
            return cls(
                charset=tuple(charset),
                input_height=int(meta.get("input_height", 32)),
                input_channels=int(meta.get("input_channels", 1)),
                norm_mean=float(meta.get("norm_mean", 0.5)),
                norm_std=float(meta.get("norm_std", 0.5)),
                width_stride=int(meta.get("width_stride", 4)),
                model_name=str(meta.get("model_name", "unknown")),
                model_version=str(meta.get("model_version", "0")),
                blank_index=int(meta.get("blank_index", 0)),
            )
        except (ValueError, TypeError) as err:
            raise ModelError(f"malformed model metadata: {err}") from err
