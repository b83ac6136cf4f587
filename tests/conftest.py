from pathlib import Path

import pytest

from grader.rubric import load_rubric

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def rubric():
    return load_rubric(ROOT / "rubrics" / "stakhanovism.toml")
