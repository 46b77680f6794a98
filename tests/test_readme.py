"""The README's Python tour runs as written (docs that run)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_python_tour_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "README has no python block"
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(blocks[0], str(README), "exec"), scope)
    assert (tmp_path / "cook.vtu").stat().st_size > 0
    assert (tmp_path / "cook.png").stat().st_size > 0
    # Cook's membrane corner deflection: converged value 25.18 (P3); coarse P2 is within 2%.
    assert scope["result"].qoi["tip_uy"] == pytest.approx(25.18, rel=0.02)
    # the synthetic second-order sequence in the tour: order 2, limit 1
    assert scope["gc"].order == pytest.approx(2.0, abs=1e-9)
    assert scope["gc"].extrapolated == pytest.approx(1.0, abs=1e-12)
