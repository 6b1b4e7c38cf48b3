"""What the DB detector's training tests share: a tiny network shape and one torch thread."""

from __future__ import annotations

import pytest
import torch

from db.model import DBConfig

# A DBNet small enough to train a few steps in a test.
TINY = DBConfig(channels=(8, 8, 16, 16, 32), blocks=(0, 1, 1, 1, 1), inner=16, head=8)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Torch on one thread for the test (imported into a module, it applies to all its tests)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
