"""Shared fixtures: the real knowledge base, loaded once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from knowledge.qa import PolicyQA

ROOT = Path(__file__).resolve().parent.parent
SEEDS = Path(os.environ.get("SEEDS_DIR", ROOT.parent / "shared" / "seeds"))


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


@pytest.fixture(scope="session")
def qa(kb: KnowledgeBase) -> PolicyQA:
    return PolicyQA(kb)


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    if not SEEDS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"seed notices not found at {SEEDS}; CI must run with shared/ beside the checkout")
        pytest.skip(f"seed notices not found at {SEEDS} (set SEEDS_DIR)")
    return SEEDS
