"""Shared by the policy tests."""

import pytest
import torch

@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    # Tiny models gain nothing from intra-op threads, and when the 2 cores are busy (pytest -n 2,
    # other jobs) spinning OpenMP threads made one 40-step test take 15-50 s instead of 0.5 s.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
