"""The results page's SVG charts (web/charts.py): well-formed, named and described for screen
readers, points where the scores put them, and every text escaped."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from web.charts import Axis, grid_cell, matrix_position, radar_chart, radar_point, twin_matrix, wrap

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def matrix(**overrides):
    arguments = dict(
        x=30.0,
        y=70.0,
        x_cuts=[50.0],
        y_cuts=[50.0],
        cells=[["Starter", "Digital first"], ["Green first", "Leader"]],
        x_label="Digital",
        y_label="Green",
        point_label="Your company",
        title="Twin-transition matrix",
        description="Digital 30 across, green 70 up: Green first.",
    )
    return twin_matrix(**{**arguments, **overrides})


def test_the_radar_is_an_image_named_and_described():
    svg = parse(radar_chart([Axis("1", 40), Axis("2", 80), Axis("3", None)], title="Scores", description="1. Data: 40"))
    assert svg.tag == f"{SVG}svg"
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "radar-title radar-desc"
    assert svg.find(f"{SVG}title").text == "Scores" and svg.find(f"{SVG}title").get("id") == "radar-title"
    assert svg.find(f"{SVG}desc").text == "1. Data: 40"
    # Its grid is decoration, hidden from screen readers; the title and description say it all.
    assert svg.find(f"{SVG}g").get("aria-hidden") == "true"


def test_the_radar_puts_each_score_on_its_spoke():
    size, centre, radius = 360, 180.0, 180 - 42
    svg = parse(radar_chart([Axis("1", 100), Axis("2", 50), Axis("3", 0), Axis("4", 25)], title="t", description="d", size=size))
    area = next(p for p in svg.iter(f"{SVG}polygon") if p.get("class") == "area")
    points = [tuple(map(float, pair.split(","))) for pair in area.get("points").split()]
    # The first spoke points up, the others follow clockwise: right, down, left.
    assert points[0] == pytest.approx((centre, centre - radius))
    assert points[1] == pytest.approx((centre + radius / 2, centre))
    assert points[2] == pytest.approx((centre, centre))
    assert points[3] == pytest.approx((centre - radius / 4, centre))
    rings = [p for p in svg.iter(f"{SVG}polygon") if p.get("class") == "ring"]
    assert len(rings) == 4


def test_a_radar_score_out_of_range_stays_inside_and_an_unscored_one_is_marked():
    assert radar_point(0, 4, 150, 100, 50) == radar_point(0, 4, 100, 100, 50)
    assert radar_point(0, 4, -20, 100, 50) == (100, 100)
    assert radar_point(0, 4, math.nan, 100, 50) == (100, 100)
    svg = parse(radar_chart([Axis("1", 40), Axis("2", None), Axis("3", 10)], title="t", description="d"))
    dots = [c.get("class") for c in svg.iter(f"{SVG}circle")]
    assert dots == ["dot", "dot unscored", "dot"]
    labels = ["".join(t.itertext()) for t in svg.iter(f"{SVG}text") if t.get("class") == "axis-label"]
    assert labels == ["1", "2*", "3"]


def test_a_radar_needs_three_axes():
    with pytest.raises(ValueError, match="at least three axes"):
        radar_chart([Axis("1", 1), Axis("2", 2)], title="t", description="d")


def test_the_matrix_places_the_company_and_shades_its_cell():
    svg = parse(matrix(current=(1, 0)))
    assert svg.get("role") == "img" and svg.find(f"{SVG}title").text == "Twin-transition matrix"
    company = next(c for c in svg.iter(f"{SVG}circle") if c.get("class") == "company")
    # The plot runs from x=46 (score 0) to x=408 (100), and from y=336 (0) up to y=14 (100).
    assert float(company.get("cx")) == pytest.approx(matrix_position(30, 46, 362))
    assert float(company.get("cy")) == pytest.approx(matrix_position(70, 336, 322, upwards=True))
    assert float(company.get("cy")) < 336 - 322 * 0.5  # above the green cut
    cells = [r for r in svg.iter(f"{SVG}rect")]
    assert [r.get("class") for r in cells] == ["cell", "cell", "cell current", "cell"]
    labels = ["".join(t.itertext()) for t in svg.iter(f"{SVG}text") if t.get("class") == "cell-label"]
    assert labels == ["Starter", "Digital first", "Green first", "Leader"]


@pytest.mark.parametrize(("x", "y"), [(99, 99), (1, 1), (99, 1), (1, 99), (50, 50)])
def test_a_long_company_label_stays_inside_the_picture(x, y):
    label = "Compania dumneavoastră"
    svg = parse(matrix(x=x, y=y, point_label=label))
    text = next(t for t in svg.iter(f"{SVG}text") if t.get("class") == "company-label")
    width, height = map(float, svg.get("viewBox").split()[2:])
    half = len(label) * 9 / 2
    assert text.get("text-anchor") == "middle"
    assert half <= float(text.get("x")) <= width - half
    assert 0 < float(text.get("y")) < height


def test_the_matrix_has_no_dot_without_both_scores():
    svg = parse(matrix(x=None))
    assert not [c for c in svg.iter(f"{SVG}circle")]
    assert not [t for t in svg.iter(f"{SVG}text") if t.get("class") == "company-label"]


@pytest.mark.parametrize(("score", "cuts", "cell"), [(49.99, [50], 0), (50, [50], 1), (None, [50], 0), (80, [33, 66], 2), (40, [33, 66], 1)])
def test_a_score_on_a_cut_goes_to_the_higher_band(score, cuts, cell):
    assert grid_cell(score, cuts) == cell


def test_every_text_is_escaped():
    evil = '<script>alert("x")</script> & Co'
    radar = str(radar_chart([Axis(evil, 1), Axis("2", 2), Axis("3", 3)], title=evil, description=evil))
    grid = str(matrix(cells=[[evil, "b"], ["c", "d"]], x_label=evil, y_label=evil, point_label=evil, title=evil, description=evil))
    for markup in (radar, grid):
        assert "<script>" not in markup
        assert "&lt;script&gt;" in markup and "&amp; Co" in markup
        root = parse(markup)  # still well-formed XML
        assert evil in "".join(root.itertext())


def test_long_cell_labels_wrap():
    assert wrap("Starting the twin transition", 12) == ["Starting the", "twin", "transition"]
    assert wrap("Supercalifragilistic word", 5) == ["Supercalifragilistic", "word"]
    assert wrap("", 5) == [""]
    svg = parse(matrix(cells=[["Starting the twin transition", "b"], ["c", "d"]]))
    first = next(t for t in svg.iter(f"{SVG}text") if t.get("class") == "cell-label")
    assert len(first.findall(f"{SVG}tspan")) >= 2
