"""Bad review inputs end in a one-line InputError, never a traceback."""

from __future__ import annotations

import pytest

from safecities.errors import InputError
from safecities.review.panel import read_table
from safecities.review.power import power_analysis


def test_tables_with_one_column_or_semicolons_are_read(tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("n\n1\n2\n")
    assert list(read_table(one)["n"]) == [1, 2]
    semi = tmp_path / "semi.csv"
    semi.write_text("\ufeffzone;week;n\nclemenceau;1;2\n", encoding="utf-8")
    assert list(read_table(semi).columns) == ["zone", "week", "n"]


@pytest.mark.parametrize(
    "content", [b"", b"\xff\xfe\x00bad", b'a,b\n"unclosed,1\n'], ids=["empty", "binary", "quote"]
)
def test_unreadable_tables_are_input_errors(tmp_path, content):
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    with pytest.raises(InputError, match="bad.csv"):
        read_table(f)


def test_a_tiny_dispersion_is_poisson():
    r = power_analysis(50, 6, -0.3, dispersion=1e-300, n_sim=50, seed=1)
    assert (
        r.detection_probability
        == power_analysis(50, 6, -0.3, n_sim=50, seed=1).detection_probability
    )
