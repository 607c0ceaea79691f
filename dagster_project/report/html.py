"""The attainment report as one self-contained HTML file per data product: inline CSS and SVG, no scripts, no
network. Everything from the spec or the data is escaped."""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from dagster_project.report.build import ProductReport, SloRow
from dagster_project.report.svg import line_chart
from dagster_project.slo.domain import Slo
from dagster_project.slo.report import sample_text

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1280px;color:#1d2330;
padding:0 1rem;line-height:1.45}
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #dde;padding-bottom:.3rem}
.muted{color:#667}.card{display:grid;grid-template-columns:1fr 1fr;gap:1rem 2rem}
table{border-collapse:collapse;width:100%;font-size:.92rem}th,td{text-align:left;padding:.3rem .5rem;
border-bottom:1px solid #eef}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.wide{overflow-x:auto}
.badges{display:flex;flex-wrap:wrap;gap:.5rem}.badge{border-radius:1rem;padding:.25rem .8rem;color:#fff;
font-weight:600;font-size:.9rem}.good{background:#1f883d}.fair{background:#bf8700}.poor{background:#cf222e}
.none{background:#8c959f}.status-ok{color:#1f883d}.status-FAIL,.status-ERROR{color:#cf222e;font-weight:700}
.status-warn{color:#bf8700;font-weight:700}.big{font-size:2.2rem;font-weight:700}
svg.chart .axis{stroke:#99a}svg.chart .reference{stroke:#cf222e;stroke-dasharray:5 4}
svg.chart .tick{font-size:11px;fill:#556}svg.chart .line{fill:none;stroke-width:2}
.s0{stroke:#0969da}.s1{stroke:#8250df}.s2{stroke:#bf3989}.s3{stroke:#1a7f37}.s4{stroke:#9a6700}.s5{stroke:#cf222e}
"""


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _badge_class(value: float | None) -> str:
    if value is None:
        return "none"
    return "good" if value >= 0.99 else "fair" if value >= 0.95 else "poor"


def _card(r: ProductReport) -> str:
    card = r.spec.data_product
    goals = "".join(
        f"<li><b>{escape(g.id)}</b>{_described(g.description)} <span class='muted'>({escape(g.target.measure)} "
        f"{'&ge; ' + format(g.target.min, 'g') if g.target.min is not None else '&le; ' + format(g.target.max, 'g')}"
        f"{', by ' + str(g.target.by) if g.target.by else ''})</span></li>"
        for g in card.goals
    )
    hypotheses = "".join(
        f"<li>We believe that <b>{escape(h.initiative)}</b> will help achieve <b>{escape(h.goal)}</b>"
        f"{': ' + escape(h.rationale) if h.rationale else ''}</li>"
        for h in card.hypotheses
    )
    use_cases = "".join(
        f"<li><b>{escape(u.id)}</b>{_described(u.description)} <span class='muted'>({escape(u.usage.frequency)}; "
        f"{escape(', '.join(u.consumers))}; serves {escape(', '.join(u.goals)) or 'no goal yet'})</span></li>"
        for u in card.use_cases
    )
    none = "<li class=muted>none declared</li>"
    return (
        f"{_missing(r)}{f'<p>{escape(card.vision)}</p>' if card.vision else ''}"
        f"<div class='card'><div><h3>Goals</h3><ul>{goals or none}</ul>"
        f"<h3>Hypotheses</h3><ul>{hypotheses or '<li class=muted>none stated</li>'}</ul></div>"
        f"<div><h3>Use cases</h3><ul>{use_cases or none}</ul></div></div>"
    )


def _described(description: str | None) -> str:
    return f": {escape(description)}" if description else ""


def _missing(r: ProductReport) -> str:
    """What the design card does not say yet: said, not failed on (a spec starts with an owner and one SLO)."""
    if not r.missing:
        return ""
    items = "".join(f"<li>{escape(m)}</li>" for m in r.missing)
    return f"<div id='missing'><h3>Missing from the design card</h3><ul>{items}</ul></div>"


def _north_star(r: ProductReport) -> str:
    star = r.spec.north_star
    if star is None:
        return (
            "<p class='muted' id='no-north-star'>No North Star declared: the spec's <code>north_star</code> names "
            "the measure this product exists to move (see <a href='#missing'>what the design card is missing</a>)."
            f"</p>{_goals(r)}"
        )
    value = r.north_star.value if r.north_star is not None else None
    chart = line_chart(
        [("daily", r.star_trend)], reference=("target", star.target), title=f"{star.name} per day, last 90 days"
    )
    return (
        f"<p><span class='big' id='north-star-value'>{_pct(value)}</span> "
        f"<span class='muted'>{escape(star.name)} over the last {escape(star.window)}, target "
        f"<span id='north-star-target'>{star.target:.0%}</span> ({escape(star.direction)})</span></p>{chart}"
        f"{_goals(r)}"
    )


def _goals(r: ProductReport) -> str:
    """Each goal's measure now against its target (nothing when the card declares no goals)."""
    if not r.spec.data_product.goals:
        return ""
    goals = "".join(
        f"<tr><td>{escape(g.id)}</td><td>{escape(g.target.measure)}</td>"
        f"<td class='num' id='goal-{escape(g.id)}'>{_fmt(r.measures.get(g.target.measure))}</td>"
        f"<td class='num'>{'&ge; ' if g.target.min is not None else '&le; '}"
        f"{format(g.target.min if g.target.min is not None else g.target.max, 'g')}</td></tr>"
        for g in r.spec.data_product.goals
    )
    return (
        f"<h3>Goals</h3><table><tr><th>goal</th><th>measure</th><th class='num'>now</th>"
        f"<th class='num'>target</th></tr>{goals}</table>"
    )


def _fmt(measure: object) -> str:
    value = getattr(measure, "value", None)
    return "-" if value is None else f"{value:.4g}"


def badges(r: ProductReport, id_prefix: str = "badge-") -> str:
    """Adherence per dimension over the shortest window, as coloured badges (the report's and the hub's)."""
    short = r.windows[0]
    out = []
    for dimension, figures in r.dimensions.items():
        adherence = figures.get(short, (None, None))[1]
        out.append(
            f"<span class='badge {_badge_class(adherence)}' id='{id_prefix}{escape(dimension)}' "
            f"title='checks passed / checks applied over {short}'>{escape(dimension)} {_pct(adherence)}</span>"
        )
    return f"<div class='badges'>{''.join(out)}</div>"


def _dimensions(r: ProductReport) -> str:
    head = "".join(f"<th class='num'>met {w}</th><th class='num'>adherence {w}</th>" for w in r.windows)
    rows = "".join(
        f"<tr><td>{escape(d)}</td>"
        + "".join(
            f"<td class='num'>{_pct(met)}</td><td class='num'>{_pct(adherence)}</td>"
            for met, adherence in (f.get(w, (None, None)) for w in r.windows)
        )
        + "</tr>"
        for d, f in r.dimensions.items()
    )
    return f"<table><tr><th>dimension</th>{head}</tr>{rows}</table>"


def _slo_table(r: ProductReport) -> str:
    head = "".join(f"<th class='num'>SLI {w}</th><th class='num'>budget left {w}</th>" for w in r.windows)

    def cells(row: SloRow) -> str:
        out = ""
        for w in r.windows:
            f = row.windows.get(w)
            out += (
                f"<td class='num'>{_pct(f.time_sli if f else None)}</td>"
                f"<td class='num'>{_pct(f.budget.remaining if f and f.budget else None)}</td>"
            )
        return out

    rows = "".join(
        f"<tr id='slo-{escape(row.slo.id)}'><td>{escape(row.slo.id)}</td><td>{escape(row.slo.dimension)}</td>"
        f"<td>{escape(row.slo.dataset)}</td><td class='num'>{escape(row.observed_text)}</td>"
        f"<td class='num'>{escape(_levels(row.slo))}</td>"
        f"<td class='num'>{row.slo.objective:g}</td>{cells(row)}"
        f"<td class='status-{escape(row.status)}'>{escape(row.status)}</td></tr>"
        for row in r.rows
    )
    return (
        "<div class='wide'><table><tr><th>SLO</th><th>dimension</th><th>dataset</th><th class='num'>latest</th>"
        f"<th class='num'>threshold</th><th class='num'>objective</th>{head}<th>status</th></tr>{rows}</table></div>"
    )


def _levels(slo: Slo) -> str:
    warn = "" if slo.warn is None else f" (warn level {slo.warn.describe(slo.unit)})"
    return slo.threshold.describe(slo.unit) + warn


def _breaches(r: ProductReport) -> str:
    if not r.breaches:
        return "<p id='no-breaches'>No SLO is failing or below its objective.</p>"
    # Every latest failure is listed, warn-severity ones too: a report that says "nothing is failing" beside
    # failing SLOs is not believed.
    items = "".join(
        f"<li id='breach-{escape(b.slo.id)}'><b>{escape(b.slo.id)}</b> ({escape(b.slo.dimension)} of "
        f"{escape(b.slo.dataset)}): latest <span class='status-{escape(b.status)}'>{escape(b.status)}</span>, "
        f"{escape(b.observed_text)} against {escape(_levels(b.slo))}; threatens "
        f"{escape(b.slo.protects[0].replace('_', ' '))} <b>{escape(b.slo.protects[1])}</b>{_samples(b)}</li>"
        for b in r.breaches
    )
    return f"<ul>{items}</ul>"


def _samples(row: SloRow) -> str:
    text = sample_text(row.samples) if row.failing else None
    return "" if text is None else f"<br><span class='muted' id='samples-{escape(row.slo.id)}'>{escape(text)}</span>"


def _burn_down(r: ProductReport) -> str:
    unmeasured = ""
    if r.unmeasured:
        unmeasured = (
            f"<p class='muted' id='unmeasured'>No error budget measured yet (no time known after a first "
            f"evaluation) for: {', '.join(escape(s) for s in r.unmeasured)}.</p>"
        )
    if len(r.unmeasured) == len(r.rows):
        return unmeasured
    if not r.burn_down:
        return "<p class='muted'>Every SLO with a measured budget still has all of it.</p>" + unmeasured
    chart = line_chart(r.burn_down, y_max=1.0, reference=("budget spent", 0.0), title="error budget remaining")
    legend = ", ".join(escape(slo) for slo, _points in r.burn_down)
    return (
        f"{chart}<p class='muted'>Budget remaining over the last {r.windows[-1]} for: {legend}. "
        "Other measured SLOs: 100%.</p>" + unmeasured
    )


def render(r: ProductReport, out_dir: Path) -> str:
    card = r.spec.data_product
    docs = ""
    if r.data_docs is not None:
        href = Path(os.path.relpath(r.data_docs, out_dir)).as_posix()
        docs = f"<p><a id='gx-data-docs' href='{escape(href)}'>Great Expectations Data Docs</a></p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(card.name)} - SLO attainment</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>
<body>
<p><a id="hub" href="index.html">All data products</a></p>
<h1>{escape(card.name)}</h1>
<p class="muted">Data product <b>{escape(card.id)}</b>, owned by {escape(card.owner)}. SLO attainment as of
<span id="as-of">{r.as_of:%Y-%m-%d %H:%M} UTC</span>. Generated by <code>slo report</code>.</p>
{badges(r)}
<h2>North Star</h2>{_north_star(r)}
<h2>Current breaches</h2>{_breaches(r)}
<h2>Attainment per dimension</h2>{_dimensions(r)}
<h2>Error budget burn-down</h2>{_burn_down(r)}
<h2>SLOs</h2>{_slo_table(r)}
<h2>The design card</h2>{_card(r)}
{docs}
</body></html>
"""
