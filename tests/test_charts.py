"""The report's charts: SVG drawn in charts.py, every text escaped, one bar per score that occurs."""

import re
import xml.etree.ElementTree as ET

import pytest

from grader.writers.charts import ConceptCoverage, _integer_ticks, coverage_chart, distribution_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_distribution_chart_has_a_bar_per_score_that_occurs_and_whole_number_ticks():
    svg = str(distribution_chart("q<1>", [0, 0, 2.5, 5, 5, 5], 5, 0.5, ungraded=2, chart_id="c-1"))
    root = ET.fromstring(svg)   # well-formed XML: every text escaped
    bars = root.findall(f"{SVG}rect")
    assert len(bars) == 3
    heights = sorted(float(b.get("height")) for b in bars)
    assert heights == pytest.approx([heights[0], 2 * heights[0], 3 * heights[0]], abs=0.2)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "q<1>: 6 graded, 2 not graded" in texts and "score (of 5)" in texts
    assert {"0", "1", "2", "3"} <= set(texts)
    assert "<1>" not in svg and "q&lt;1&gt;" in svg


def test_coverage_chart_stacks_the_shares_of_each_concept_and_escapes_labels():
    coverage = [ConceptCoverage("q1", "<script>alert(1)</script>", {"found": 1, "missing": 3}),
                ConceptCoverage("q2", "quotas", {"found": 2, "negated": 2})]
    svg = str(coverage_chart(coverage))
    root = ET.fromstring(svg)
    assert "<script>" not in svg
    widths = {r.find(f"{SVG}title").text: float(r.get("width")) for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None}
    assert widths["missing: 75%"] == pytest.approx(3 * widths["covered: 25%"], abs=0.2)
    assert widths["denied: 50%"] == pytest.approx(widths["covered: 50%"], abs=0.2)
    assert "75% missed" in svg and "50% missed" in svg
    assert not re.search(r'\bid="', svg)   # nothing that could clash with the page's ids


def test_integer_ticks_reach_the_top_on_a_1_2_5_step():
    for top in (0, 1, 3, 6, 7, 13, 99, 1234, 33334):
        ticks = _integer_ticks(top)
        step = ticks[1] - ticks[0]
        assert ticks[0] == 0 and ticks[-1] >= max(top, 1) and len(ticks) <= 7
        assert str(step)[0] in "125" and set(str(step)[1:]) <= {"0"}
