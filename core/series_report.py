"""report.html of a series: self-contained like compare's (Vega inlined once, specs with their
aggregated data, thumbnails as data URLs)."""
from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from core import series_charts as sc
from core.report import html_page
from core.series import Series, path_string
from core.thumbnails import thumbnail_urls

MOST_FORGOTTEN = 24


def _div(chart_id: str) -> str:
    return f"<div id='{chart_id}' class='chart'></div>"


def _forgotten_table(s: Series, k: int = MOST_FORGOTTEN) -> str:
    """The k examples forgotten most often, with thumbnail and path."""
    dyn = s.dynamics()
    rows = np.argsort(-dyn.forgettings, kind="stable")[:k]
    rows = rows[dyn.forgettings[rows] > 0]
    if not len(rows):
        return "<p>No example was forgotten.</p>"
    urls = thumbnail_urls(s.samples, rows)
    esc = html.escape
    out = ["<table><tr><th>image</th><th>id</th><th>truth</th><th>path (✓ right, ✗ wrong)</th>"
           "<th>forgettings</th><th>learned at</th></tr>"]
    for i, url in zip(rows.tolist(), urls):
        img = f"<img class='thumb' src='{url}' alt='example {esc(str(s.ids[i]))}'>" if url else "–"
        learned = int(dyn.learned_at[i])
        out.append(f"<tr><td>{img}</td><td>{esc(str(s.ids[i]))}</td><td>{esc(s.class_names[int(s.truth[i])])}</td>"
                   f"<td>{path_string(dyn.correct[:, i])}</td><td>{int(dyn.forgettings[i])}</td>"
                   f"<td>{learned if learned >= 0 else '–'}</td></tr>")
    out.append("</table>")
    return "".join(out)


def build_series_report(s: Series, summary: dict[str, Any]) -> str:
    """The whole report.html of a series as a string, from the series and its series.json dict."""
    dyn = s.dynamics()
    pc, cut = sc.per_class_frame(s)
    specs = {
        "metrics": sc.metrics_chart(sc.metrics_frame(s)).to_dict(),
        "per-class": sc.per_class_heatmap(pc).to_dict(),
        "learned": sc.learned_chart(sc.learned_frame(dyn)).to_dict(),
        "forgetting": sc.forgetting_chart(sc.forgetting_frame(dyn)).to_dict(),
    }
    esc = html.escape
    table = pd.DataFrame(summary["checkpoints"]).rename(columns={"source": "checkpoint"})
    table.insert(0, "#", range(len(table)))
    warnings = "".join(f"<li>{esc(w)}</li>" for w in summary.get("warnings", []))
    cut_note = "<p class='note'>The 30 classes whose accuracy changed most.</p>" if cut else ""
    body = f"""
<h1>versus: epoch series</h1>
<p class='sub'>{len(s.checkpoints)} checkpoints, {summary['n']:,} examples, {len(s.class_names)} classes</p>
{f"<h2>Warnings</h2><ul id='warnings'>{warnings}</ul>" if warnings else ""}
<h2>Metrics per checkpoint</h2>
{table.to_html(index=False, border=0, na_rep="–", float_format=lambda x: f"{x:.4f}")}
{_div('metrics')}
<h2>Per-class accuracy</h2>
{cut_note}{_div('per-class')}
<h2>Per-example dynamics</h2>
<p>{summary['forgetting_events']:,} forgetting events (right at one checkpoint, wrong at the next;
Toneva et al., ICLR 2019); {summary['never_right']:,} examples never right; {summary['always_right']:,}
always right. "Learned at" is the first checkpoint from which an example stays right to the end.</p>
<div class='charts'>{_div('learned')}{_div('forgetting')}</div>
<h2>Most forgotten examples</h2>
{_forgotten_table(s)}
"""
    return html_page("versus series report", body, specs)
