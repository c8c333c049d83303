"""A plain Python scorer written by hand for the furniture questionnaire: the yardstick for
``scoring_ratio_vs_handwritten``.

It does what the engine does for this one questionnaire, with no general machinery: the
points tables are read from the questionnaire (data), while the logic, the one condition and
the recommendation rules are written out by hand. ``bench.scoring`` checks that it gives the
same numbers and recommendations as the engine before timing either, so the comparison is
like with like; if the questionnaire's rules change, that check fails and this file needs the
same change.
"""

from __future__ import annotations

from bisect import bisect_right

from questionnaires.compile import CompiledQuestionnaire
from questionnaires.schema import Matrix, MultipleChoice, Number, Scale, SingleChoice, YesNo

QUESTIONNAIRE = "furniture"


def make_scorer(c: CompiledQuestionnaire):
    questions = []
    for qid, q in c.questions.items():
        dims = list(q.scoring().items())
        if isinstance(q, SingleChoice):
            top = max(o.points for o in q.options)
            if top <= 0:
                continue  # asked only for the rules; it earns nothing
            questions.append((qid, "single", {o.id: o.points for o in q.options}, top, dims))
        elif isinstance(q, MultipleChoice):
            top = q.max_points or sum(o.points for o in q.options if o.points > 0 and not o.exclusive)
            if top <= 0:
                continue
            questions.append((qid, "multiple", {o.id: o.points for o in q.options}, top, dims))
        elif isinstance(q, Scale):
            questions.append((qid, "scale", q.min, q.max - q.min, dims))
        elif isinstance(q, Matrix) and q.scale is not None:
            questions.append((qid, "matrix_scale", [r.id for r in q.rows], (q.scale[0].value, q.scale[-1].value - q.scale[0].value), dims))
        elif isinstance(q, Matrix):
            kind = "matrix_ticks" if q.multiple else "matrix_columns"
            top = sum(x.points for x in q.columns if x.points > 0) if q.multiple else max(x.points for x in q.columns)
            questions.append((qid, kind, ([r.id for r in q.rows], {x.id: x.points for x in q.columns}), top, dims))
        elif isinstance(q, Number) and q.bands:
            questions.append((qid, "number", ([b.at_least for b in q.bands], [b.points for b in q.bands]), max(b.points for b in q.bands), dims))
        elif isinstance(q, YesNo):
            questions.append((qid, "yes_no", (q.yes_points, q.no_points), max(q.yes_points, q.no_points), dims))
    dimension_pillar = {d.id: (d.pillar, d.weight) for d in c.meta.dimensions}
    pillar_weight = {p.id: p.weight for p in c.meta.pillars}
    level_from = [lv.from_ for lv in c.levels]
    level_ids = [lv.id for lv in c.levels]
    grid = c.archetypes.grid

    def level(v):
        return None if v is None else level_ids[max(0, bisect_right(level_from, v) - 1)]

    rules = [
        ("rec_start_twin_transition", 95, lambda a, d, p, s, arch, co: arch == "traditional"),
        ("rec_digital_to_green", 70, lambda a, d, p, s, arch, co: arch == "digital_first"),
        ("rec_green_to_digital", 70, lambda a, d, p, s, arch, co: arch == "green_first"),
        ("rec_twin_leader_mentor", 30, lambda a, d, p, s, arch, co: arch == "twin_leader"),
        ("rec_digital_strategy", 85, lambda a, d, p, s, arch, co: d["strategy"] < 50),
        ("rec_digital_basics", 80, lambda a, d, p, s, arch, co: d["readiness"] < 50),
        ("rec_digital_skills", 75, lambda a, d, p, s, arch, co: d["human"] < 50),
        ("rec_data_security", 90, lambda a, d, p, s, arch, co: d["data"] < 50 or (s.get("dma_q8") is not None and s["dma_q8"] < 50)),
        ("rec_automation_ai", 55, lambda a, d, p, s, arch, co: d["automation"] < 50 and d["data"] >= 50),
        ("rec_green_digitalisation", 65, lambda a, d, p, s, arch, co: d["green_digital"] < 50),
        ("rec_circular_economy", 75, lambda a, d, p, s, arch, co: d["circular"] < 50),
        ("rec_energy_efficiency", 75, lambda a, d, p, s, arch, co: d["energy"] < 50),
        ("rec_carbon_footprint", 60, lambda a, d, p, s, arch, co: a.get("ghg_footprint") in ("not_measured", "estimate")),
        ("rec_supply_resilience", 70, lambda a, d, p, s, arch, co: d["supply_chain"] < 50 or a.get("single_source") == "many"),
        ("rec_market_diversification", 65, lambda a, d, p, s, arch, co: d["markets"] < 50 or a.get("customer_concentration") == "over_75"),
        ("rec_mexico_b2b", 60, lambda a, d, p, s, arch, co: co["size"] != "large" and "mexico" in (a.get("latam_interest") or ())),
        ("rec_chile_b2b", 60, lambda a, d, p, s, arch, co: co["size"] != "large" and "chile" in (a.get("latam_interest") or ())),
        ("rec_furniture_it_partner", 80, lambda a, d, p, s, arch, co: co["sector"] == "furniture" and p["digital"] < 50),
        ("rec_furniture_ecodesign", 72, lambda a, d, p, s, arch, co: d["ecodesign"] < 50),
        ("rec_furniture_dpp", 68, lambda a, d, p, s, arch, co: a.get("dpp_readiness") in ("not_collected", "spreadsheets")),
        ("rec_furniture_digital_tools", 62, lambda a, d, p, s, arch, co: d["product_digital"] < 50),
    ]
    rules.sort(key=lambda r: -r[1])

    def score(answers: dict, company: dict) -> dict:
        audited = answers.get("energy_audit") is True  # audit_actions' show_if
        sums, weights, qscores = {}, {}, {}
        for qid, kind, table, top, dims in questions:
            if qid == "audit_actions" and not audited:
                continue
            a = answers.get(qid)
            if a == "na":
                qscores[qid] = None
                continue
            if a is None:
                s = 0.0
            elif kind == "single":
                s = table[a] / top
            elif kind == "multiple":
                s = min(1.0, max(0.0, sum(table[o] for o in a) / top))
            elif kind == "scale":
                s = (a - table) / top
            elif kind == "matrix_scale":
                low, span = top
                values = [a.get(r) for r in table]
                counted = [v for v in values if v != "na"]
                if not counted:
                    qscores[qid] = None
                    continue
                s = sum(0.0 if v is None else (v - low) / span for v in counted) / len(counted)
            elif kind in ("matrix_ticks", "matrix_columns"):
                rows, points = table
                counted = [a.get(r) for r in rows if a.get(r) != "na"]
                if not counted:
                    qscores[qid] = None
                    continue
                if kind == "matrix_ticks":
                    s = sum(0.0 if v is None else min(1.0, sum(points[x] for x in v) / top) for v in counted) / len(counted)
                else:
                    s = sum(0.0 if v is None else points[v] / top for v in counted) / len(counted)
            elif kind == "number":
                thresholds, band_points = table
                i = bisect_right(thresholds, a) - 1
                s = (band_points[i] if i >= 0 else 0.0) / top
            else:
                s = (table[0] if a else table[1]) / top
            qscores[qid] = s * 100
            for d, w in dims:
                sums[d] = sums.get(d, 0.0) + s * w
                weights[d] = weights.get(d, 0.0) + w
        dims = {d: (100 * sums[d] / weights[d] if weights.get(d) else None) for d in dimension_pillar}
        pillar_sum, pillar_w = {}, {}
        for d, (pillar, w) in dimension_pillar.items():
            if dims[d] is not None:
                pillar_sum[pillar] = pillar_sum.get(pillar, 0.0) + dims[d] * w
                pillar_w[pillar] = pillar_w.get(pillar, 0.0) + w
        pillars = {p: pillar_sum[p] / pillar_w[p] if pillar_w.get(p) else None for p in pillar_weight}
        present = [(v, pillar_weight[p]) for p, v in pillars.items() if v is not None]
        overall = sum(v * w for v, w in present) / sum(w for _, w in present)
        archetype = grid[0 if pillars["green"] < 50 else 1][0 if pillars["digital"] < 50 else 1]
        fired = [rid for rid, _, rule in rules if rule(answers, dims, pillars, qscores, archetype, company)]
        return {
            "dimensions": dims,
            "pillars": pillars,
            "overall": overall,
            "levels": {**{d: level(v) for d, v in dims.items()}, "overall": level(overall)},
            "archetype": archetype,
            "recommendations": fired,
        }

    return score
