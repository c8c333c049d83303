"""The PDF report: time and memory to render a full report (previous assessment and sector
average included) for the largest bundled questionnaire, in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys

RENDERS = 30

# Run in a child so that the memory figures are this work's alone. ru_maxrss is the peak
# resident size so far (KiB on Linux): read once the questionnaire is compiled and the
# answers scored (the baseline), and again after rendering (the peak, baseline included).
CHILD = """\
import json, re, resource, statistics, time
from datetime import date

from questionnaires.compile import load_bundled
from scoring.check import random_answers, random_company
from scoring.engine import score

def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

compiled = max(load_bundled(), key=lambda c: len(c.questions))
tests = {t.name: t for t in compiled.tests}
now = tests["digital strong, green and resilience weak: digital first"]
before = tests["all worst answers"]
profile = score(compiled, now.answers, now.company, explain=True)
previous = score(compiled, before.answers, before.company)
baseline = rss_mb()

start = time.perf_counter()
from scoring.render.report import ReportDetails, render_report
details = ReportDetails(
    company_name="Benchmark Furniture S.r.l.", sector="furniture", cluster="did", country="IT",
    assessment_date=date(2026, 3, 5), previous=previous, previous_date=date(2025, 3, 5),
    peer_average={d: 50.0 for d in profile.dimensions}, peer_count=12,
)
pdf = render_report(compiled, profile, details)
first = (time.perf_counter() - start) * 1000
times = []
for _ in range(RENDERS):
    start = time.perf_counter()
    render_report(compiled, profile, details)
    times.append((time.perf_counter() - start) * 1000)
print(json.dumps({
    "questionnaire": compiled.id, "pages": len(re.findall(rb"/Type /Page[^s]", pdf)), "bytes": len(pdf),
    "median_ms": statistics.median(times), "first_ms": first, "baseline_mb": baseline, "peak_mb": rss_mb(),
}))
"""


def pdf() -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", CHILD.replace("RENDERS", str(RENDERS))], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    return {
        "pdf_pages": result["pages"],
        "pdf_median_ms": result["median_ms"],
        "pdf_first_ms": result["first_ms"],
        "pdf_baseline_mb": result["baseline_mb"],
        "pdf_peak_mb": result["peak_mb"],
    }
