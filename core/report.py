"""report.html: one self-contained page for stakeholders (no network needed to open it).

Charts are Vega-Lite specs with their data inlined, drawn by the vega / vega-lite /
vega-embed bundle that vl-convert ships, inlined once; thumbnails are PNG data URLs.
"""
from __future__ import annotations

import html
import json
from functools import lru_cache
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from core import calibration, confusion, curves, eval_charts
from core.comparison import REGRESSED, Comparison
from core.evaluation import MAX_DRAWN_CURVES, Evaluation, evaluation_of
from core.summary import overview_table, per_class_table
from core.thumbnails import thumbnail_urls
from core.verdict import mcnemar_sentence, plain_verdict, significance_table, verdict

TOP_REGRESSIONS = 24
REPORT_CURVE_POINTS = 100
TOP_CLASSES = 30  # per-class table rows in the report (worst regressed first)

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;
padding:0 1rem;color:#222}
h1{margin-bottom:.2rem}.sub{color:#666;margin-top:0}
.verdict{font-size:1.25rem;padding:.8rem 1rem;border-radius:.4rem;background:#eef3fb;border-left:6px solid #4c78a8}
.verdict.A{background:#fdf0e6;border-color:#f58518}.verdict.none{background:#f3f3f3;border-color:#999}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}
.note{color:#555;font-size:.9rem}
.warnings{background:#fff6d6;border-left:6px solid #e0b100;padding:.5rem 1rem .5rem 2rem}
.thumb{image-rendering:pixelated;width:64px;height:64px;object-fit:contain;background:#000}
"""


@lru_cache(maxsize=1)
def vega_bundle() -> str:
    """The vega + vega-lite + vega-embed JavaScript matching Altair's Vega-Lite version, built
    by vl-convert once and kept in versus's cache folder (building it takes seconds)."""
    import vl_convert

    from core.cache import atomic_write_bytes, default_root

    major, minor = alt.SCHEMA_VERSION.lstrip("v").split(".")[:2]
    version = f"v{major}_{minor}"
    path = default_root() / "vega" / f"bundle-{version}-vlc{vl_convert.__version__}.js"
    try:
        cached = path.read_text(encoding="utf-8")
        if cached.strip():
            return cached
    except (OSError, UnicodeDecodeError):
        pass
    bundle = vl_convert.javascript_bundle(vl_version=version)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, bundle.encode("utf-8"))
    except OSError:
        pass  # an unwritable cache only costs the rebuild next time
    return bundle


def top_regressions(cmp: Comparison, k: int = TOP_REGRESSIONS) -> np.ndarray:
    """Rows of the regressed examples (A right, B wrong), B's most confident wrong guesses first."""
    rows = np.flatnonzero(cmp.status == REGRESSED)
    return rows[np.argsort(-cmp.b.confidence[rows], kind="stable")[:k]]


def _table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, border=0, na_rep="–", float_format=lambda x: f"{x:.4f}")


def _models_table(cmp: Comparison) -> str:
    """Each side's name, full source, architecture, format, epoch and preprocessing."""
    from core.sources.naming import side_summary

    return _table(pd.DataFrame([{"side": side, **side_summary(p.meta)} for side, p in (("A", cmp.a), ("B", cmp.b))]))


def _regressions_table(cmp: Comparison, rows: np.ndarray) -> str:
    names = cmp.class_names
    urls = thumbnail_urls(cmp.samples, rows)
    out = ["<table><tr><th>image</th><th>id</th><th>truth</th><th>A guess (score)</th>"
           "<th>B guess (score)</th><th>truth score A → B</th></tr>"]
    for i, url in zip(rows.tolist(), urls):
        t, ga, gb = int(cmp.truth[i]), int(cmp.a.guess[i]), int(cmp.b.guess[i])
        img = f"<img class='thumb' src='{url}' alt='example {html.escape(str(cmp.ids[i]))}'>" if url else "–"
        out.append(
            f"<tr><td>{img}</td><td>{html.escape(str(cmp.ids[i]))}</td><td>{html.escape(names[t])}</td>"
            f"<td>{html.escape(names[ga])} ({cmp.a.scores[i, ga]:.2f})</td>"
            f"<td>{html.escape(names[gb])} ({cmp.b.scores[i, gb]:.2f})</td>"
            f"<td>{cmp.a.scores[i, t]:.2f} → {cmp.b.scores[i, t]:.2f}</td></tr>")
    out.append("</table>")
    return "".join(out)


def report_charts(ev: Evaluation, mc: dict[str, curves.ModelCurves]) -> dict[str, alt.TopLevelMixin]:
    """The report's charts by element id: confusion A, B, B - A (above confusion.DENSE_UP_TO
    classes: the submatrix of the classes in the most-confused pairs), ROC, PR and reliability."""
    names = ev.class_names
    shown = confusion_classes(ev)
    sub = [names[k] for k in shown]
    cm_a, cm_b = (confusion.submatrix(m.confusion, shown) for m in (ev.a, ev.b))
    part = "" if len(shown) == len(names) else f" ({len(shown)} most-confused classes)"
    curve_shown = ev.curve_classes
    curve_names = [names[k] for k in curve_shown]
    rel = calibration.reliability_frame({"A": calibration.merge_thin(ev.a.reliability),
                                         "B": calibration.merge_thin(ev.b.reliability)})
    return {
        "confusion-a": eval_charts.confusion_heatmap(cm_a, sub, title=f"A: confusion (counts){part}"),
        "confusion-b": eval_charts.confusion_heatmap(cm_b, sub, title=f"B: confusion (counts){part}"),
        "confusion-diff": eval_charts.difference_heatmap(cm_a, cm_b, sub, title=f"B - A (counts){part}"),
        "roc": eval_charts.curve_chart(curves.curve_frame(mc, names, "roc", curve_shown), "roc",
                                       "ROC, one class vs the rest", curve_names),
        "pr": eval_charts.curve_chart(curves.curve_frame(mc, names, "pr", curve_shown), "pr",
                                      "Precision-recall, one class vs the rest", curve_names),
        "reliability": eval_charts.reliability_chart(rel, "Reliability: accuracy vs confidence"),
    }


def confusion_classes(ev: Evaluation) -> list[int]:
    """Every class up to confusion.DENSE_UP_TO classes, else those of the most-confused pairs
    (the first classes when nothing is confused)."""
    if ev.num_classes <= confusion.DENSE_UP_TO:
        return list(range(ev.num_classes))
    return confusion.involved_classes(ev.pairs(by="count")) or list(range(confusion.MAX_SUBMATRIX))


def report_curves(cmp: Comparison) -> dict[str, curves.ModelCurves]:
    """A's and B's curves with REPORT_CURVE_POINTS points, for the Evaluation's curve classes."""
    return evaluation_of(cmp).curves_at(REPORT_CURVE_POINTS)


def _pairs_section(ev: Evaluation) -> str:
    """Above confusion.DENSE_UP_TO classes: the most-confused pairs, by count and by change."""
    if ev.num_classes <= confusion.DENSE_UP_TO:
        return ""
    cols = confusion.PAIR_COLUMNS
    parts = []
    for by, label in (("count", "most examples in A and B"), ("change", "largest change from A to B")):
        table = ev.pairs(by=by)[list(cols)].rename(columns=cols)
        parts.append(f"<h3>Most-confused pairs: {label}</h3>{_table(table)}")
    return "".join(parts)


def _area_table(ev: Evaluation, mc: dict[str, curves.ModelCurves]) -> pd.DataFrame:
    """The AUC / AP table of the classes drawn, and the macro row."""
    table = curves.area_table(mc["A"], mc["B"], ev.class_names)
    if ev.num_classes <= MAX_DRAWN_CURVES:
        return table
    return table.iloc[ev.curve_classes + [ev.num_classes]].reset_index(drop=True)


def _warnings(summary: dict[str, Any]) -> str:
    """summary.json's warnings as a list at the top of the report (nothing when none)."""
    items = "".join(f"<li>{html.escape(w)}</li>" for w in summary.get("warnings") or [])
    return f"<ul class='warnings' id='warnings'>{items}</ul>" if items else ""


def _div(chart_id: str) -> str:
    return f"<div id='{chart_id}' class='chart'></div>"


def _script_json(obj: Any) -> str:
    return json.dumps(obj).replace("</", "<\\/")


def build_report(cmp: Comparison, summary: dict[str, Any]) -> str:
    """The whole report.html as a string, from a comparison and its summary.json dict; its
    size is bounded by the class count only through capped tables (top pairs, top classes)."""
    ev = evaluation_of(cmp)
    v = verdict(summary)
    sentence, stats = plain_verdict(summary)
    names = cmp.class_names
    mc = report_curves(cmp)
    specs = {key: chart.to_dict() for key, chart in report_charts(ev, mc).items()}
    rows = top_regressions(cmp)
    a, b = summary["a"], summary["b"]
    esc = html.escape
    curve_note = ("" if len(names) <= MAX_DRAWN_CURVES else
                  f"<p class='note'>Curves of the {MAX_DRAWN_CURVES} classes whose AUC changed most.</p>")
    class_note = ("" if len(names) <= TOP_CLASSES else
                  f"<p class='note'>The {TOP_CLASSES} classes that regressed most of {len(names):,}; "
                  "summary.json holds them all.</p>")
    confusion_note = ("" if len(names) <= confusion.DENSE_UP_TO else
                      f"<p class='note'>{len(names):,} classes: the matrices show the "
                      f"{len(confusion_classes(ev))} classes of the most-confused pairs.</p>")
    data_name = f" of {esc(str(summary['data']))}" if summary.get("data") else ""
    body = f"""
<h1>versus: A vs B</h1>
<p class='sub'><b>A</b> {esc(a['source'])}<br><b>B</b> {esc(b['source'])}<br>
{summary['n']:,} examples{data_name}, {len(names)} classes</p>
<p class='verdict {v.winner or "none"}' id='verdict'>{esc(v.text)}</p>
<p id='plain-verdict'><b>{esc(sentence)}</b><br><span class='note'>{esc(stats)}</span></p>
{_warnings(summary)}
<h2>Models</h2>
{_models_table(cmp)}
<h2>Is the change real?</h2>
<p>{esc(mcnemar_sentence(summary))} The 95% intervals come from a paired bootstrap (1,000 resamples
of the examples, A and B together, fixed seed).</p>
{_table(significance_table(summary))}
<h2>Metrics</h2>
{_table(overview_table(summary))}
<h2>Per class</h2>
{class_note}
{_table(per_class_table(summary, limit=TOP_CLASSES))}
<h2>Confusion</h2>
<p class='note'>Rows are the true class, columns the guess. In B - A, green means B is better in that
cell (more right on the diagonal, fewer confusions off it), purple means B is worse.</p>
{confusion_note}
{_pairs_section(ev)}
<div class='charts'>{_div('confusion-a')}{_div('confusion-b')}{_div('confusion-diff')}</div>
<h2>ROC and precision-recall</h2>
<p class='note'>Each class against the rest; higher curves are better. AUC: area under the ROC curve;
AP: average precision.</p>
{_table(_area_table(ev, mc))}
{curve_note}
{_div('roc')}{_div('pr')}
<h2>Calibration</h2>
<p>ECE (lower is better): A {a['ece']:.4f}, B {b['ece']:.4f}. Brier score (lower is better):
A {a['brier']:.4f}, B {b['brier']:.4f}.</p>
<p class='note'>A well calibrated model lies on the dashed diagonal: when it says 80%, it is right 80% of
the time. Point size is the number of examples in the bin; bins with fewer than
{calibration.THIN_BIN} examples are merged with their neighbour.</p>
{_div('reliability')}
<h2>Top regressions</h2>
<p class='note'>Examples A got right and B gets wrong ({summary['regressed']:,} in all), those B is most
sure of first.</p>
{_regressions_table(cmp, rows) if len(rows) else "<p>None: B introduces no new errors.</p>"}
"""
    return html_page("versus report", body, specs)


def html_page(title: str, body: str, specs: dict[str, Any]) -> str:
    """A self-contained page: the body, the inlined Vega bundle, and each chart spec embedded
    into the div of its id (a chart that fails says so in its place)."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_STYLE}</style>
<script>{vega_bundle()}</script>
</head><body>{body}
<script>
const SPECS = {_script_json(specs)};
for (const [id, spec] of Object.entries(SPECS)) {{
  vegaEmbed("#" + id, spec, {{actions: false, renderer: "svg"}})
    .catch((err) => {{ document.getElementById(id).textContent = "Chart failed: " + err; }});
}}
</script>
</body></html>
"""
