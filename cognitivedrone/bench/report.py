"""The benchmark report: results.json (a stable schema other tools read), report.md, a bar chart
of success per category, and a console table (docs/design.md, Results and runs).

    summary = summarize(results, suite=..., policy=..., reasoner=..., engine=..., prompt=..., wall_s=...)
    print_summary(summary)
    write_report(summary, out_dir)   # -> {"results": .../results.json, "report": .../report.md, "plot": ...png}

Success rates carry 95% Wilson score intervals: with a few dozen episodes per category the
normal approximation is poor near 0% and 100%, Wilson's is not.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from cognitivedrone.bench.journal import JOURNAL
from cognitivedrone.bench.results import FAILURES, FAULTS, OUTCOMES, EpisodeResult
from cognitivedrone.bench.results import json_safe as _clean

CATEGORY_ORDER = ("human", "symbol", "reasoning")
CHANCE = 1.0 / 3.0  # three gates, one correct

RESULTS_JSON = "results.json"
REPORT_MD = "report.md"
PLOT_PNG = "success_by_category.png"
VIDEOS_DIR = "videos"
RUN_JSON = "bench.json"  # the run's settings, written before anything flies: it claims the folder
# Everything a run writes into its folder; `--overwrite` removes these and nothing else.
RUN_FILES = (RUN_JSON, RESULTS_JSON, RESULTS_JSON + ".tmp", REPORT_MD, PLOT_PNG, VIDEOS_DIR, JOURNAL)

_FAILURE_LABELS = {
    "wrong_gate": "wrong gate",
    "collision": "collision",
    "out_of_bounds": "out of bounds",
    "timeout": "timeout",
}


# --------------------------------------------------------------------------------------------
# statistics


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for `k` successes out of `n` trials (z = 1.96: 95%).

    Returns (0.0, 1.0) when n == 0: nothing is known. (statsmodels' `proportion_confint(method=
    "wilson")` gives the same numbers, but would bring scipy and pandas to every install for these
    eight lines.)
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"wilson_interval needs 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4 * n * n)) / denom
    lo = max(0.0, centre - half)
    hi = min(1.0, centre + half)
    # exact ends: no rounding residue at 0 and 1
    if k == 0:
        lo = 0.0
    if k == n:
        hi = 1.0
    return (lo, hi)


def _group(n: int, k: int) -> dict:
    lo, hi = wilson_interval(k, n)
    return {"n": n, "success_rate": (k / n) if n else 0.0, "ci95": [lo, hi]}


def _ordered_categories(cats: list[str]) -> list[str]:
    present = list(dict.fromkeys(cats))
    known = [c for c in CATEGORY_ORDER if c in present]
    others = sorted(c for c in present if c not in CATEGORY_ORDER)
    return known + others


def _finite(values) -> list[float]:
    out = []
    for v in values:
        if v is None:
            continue
        f = float(v)
        if math.isfinite(f):
            out.append(f)
    return out


def _mean_or_none(values) -> float | None:
    vals = _finite(values)
    return float(np.mean(vals)) if vals else None


def summarize(
    results: list[EpisodeResult],
    *,
    suite: str,
    policy: str,
    reasoner: str | None,
    engine: str | None,
    prompt: str,
    wall_s: float,
) -> dict:
    """The results.json document for one run. Key order is part of the schema."""
    for r in results:
        if r.outcome not in OUTCOMES:
            raise ValueError(f"episode {r.episode_id!r}: unknown outcome {r.outcome!r} (expected one of {OUTCOMES})")

    n = len(results)
    k = sum(r.success for r in results)

    by_category = {}
    for cat in _ordered_categories([r.category for r in results]):
        rs = [r for r in results if r.category == cat]
        by_category[cat] = _group(len(rs), sum(r.success for r in rs))

    # families grouped by the category they first appear in (in category order), then by name
    cat_rank = {c: i for i, c in enumerate(by_category)}
    fam_cat: dict[str, str] = {}
    for r in results:
        fam_cat.setdefault(r.family, r.category)
    families = sorted(fam_cat, key=lambda f: (cat_rank[fam_cat[f]], f))
    by_family = {}
    for fam in families:
        rs = [r for r in results if r.family == fam]
        by_family[fam] = _group(len(rs), sum(r.success for r in rs))

    failures = {f: sum(r.outcome == f for r in results) for f in FAILURES}
    by_look = _by_look(results, list(by_category))

    judged = [r.rewrite_correct for r in results if r.rewrite_correct is not None]
    rewrite_accuracy = (sum(bool(v) for v in judged) / len(judged)) if judged else None

    # policy latency: mean per decision (episodes weighted by their decision count when known),
    # p99 = 99th percentile of the episodes' own p99s
    lat_pairs = [(r.latency_ms_mean, r.steps) for r in results if r.latency_ms_mean is not None]
    lat_pairs = [(float(m), s) for m, s in lat_pairs if math.isfinite(float(m))]
    if lat_pairs and sum(max(s, 0) for _, s in lat_pairs) > 0:
        w = np.array([max(s, 0) for _, s in lat_pairs], dtype=np.float64)
        lat_mean = float(np.average([m for m, _ in lat_pairs], weights=w))
    elif lat_pairs:
        lat_mean = float(np.mean([m for m, _ in lat_pairs]))
    else:
        lat_mean = None
    p99s = _finite(r.latency_ms_p99 for r in results)
    lat_p99 = float(np.percentile(p99s, 99)) if p99s else None

    summary = {
        "suite": suite,
        "policy": policy,
        "reasoner": reasoner,
        "engine": engine,
        "prompt": prompt,
        "n": n,
        "success_rate": (k / n) if n else 0.0,
        "by_category": by_category,
        "by_family": by_family,
        "by_look": by_look,
        "failures": failures,
        "rewrite_accuracy": rewrite_accuracy,
        "wall_s": float(wall_s),
        "ci95": list(wilson_interval(k, n)),
        "time_to_goal_s": _mean_or_none(r.time_s for r in results if r.success),
        "path_length_m": _mean_or_none(r.path_length_m for r in results),
        "policy_latency_ms": {"mean": lat_mean, "p99": lat_p99},
        "reasoner_latency_ms": {"mean": _mean_or_none(r.reasoner_latency_ms_mean for r in results
                                                      if r.reasoner_latency_ms_mean is not None)},
        "doubt": _doubt_summary(results),
        "faults": _fault_summary(results),
        "episodes": [r.to_json() for r in results],
    }
    return _clean(summary)


def _by_look(results, categories: list[str]) -> dict:
    """Per look (in first-appearance order): success per category and overall, rewrite accuracy."""
    out = {}
    for look in dict.fromkeys(r.look for r in results):
        rs = [r for r in results if r.look == look]
        row = {cat: _group(len(g), sum(r.success for r in g)) for cat in categories
               if (g := [r for r in rs if r.category == cat])}
        row["overall"] = _group(len(rs), sum(r.success for r in rs))
        judged = [r.rewrite_correct for r in rs if r.rewrite_correct is not None]
        row["rewrite_accuracy"] = sum(bool(v) for v in judged) / len(judged) if judged else None
        out[look] = row
    return out


def _looks_shown(summary: dict) -> bool:
    looks = summary.get("by_look") or {}
    return len(looks) > 1 or any(k != "classic" for k in looks)


def _look_columns(summary: dict) -> list[str]:
    return [*summary["by_category"], "overall"]


def _doubt_summary(results) -> dict | None:
    """Episodes in which the Pilot hovered on an unflyable frame, searched, or gave up searching
    (decisions summed over the suite), and how those episodes ended."""
    rs = [r for r in results if r.doubt]
    if not rs:
        return None
    out = {}
    for key in ("unflyable", "searching", "gate_lost"):
        hit = [r for r in rs if r.doubt.get(key)]
        out[key] = {"episodes": len(hit), "decisions": sum(int(r.doubt[key]) for r in hit),
                    "succeeded": sum(r.success for r in hit)}
    return out


def _fault_summary(results) -> dict | None:
    """Per fault kind (results.FAULTS): its count over the run and the episodes it happened in."""
    rs = [r for r in results if r.faults]
    if not rs:
        return None
    return {key: {"count": sum(int(r.faults.get(key, 0)) for r in rs),
                  "episodes": sum(bool(r.faults.get(key)) for r in rs)} for key in FAULTS}


def reasoner_never_answered(summary: dict) -> bool:
    """A reasoner ran and not one of its calls returned: every rewrite came from nowhere, and the
    run measured the policy alone (a server that is down, a wrong URL or key)."""
    f = summary.get("faults") or {}
    asked = f.get("reasoner_calls", {}).get("count", 0) + f.get("reasoner_failures", {}).get("count", 0)
    return bool(summary.get("reasoner")) and asked > 0 and f.get("reasoner_answers", {}).get("count", 0) == 0


_FAULT_LABELS = {"reasoner_calls": "reasoner calls", "reasoner_answers": "reasoner answers",
                 "reasoner_failures": "reasoner failures (errors, timeouts)",
                 "rewrites_ignored": "rewrites ignored (not the simple form)", "policy_errors": "policy errors",
                 "safety_interventions": "safety filter interventions"}


# --------------------------------------------------------------------------------------------
# formatting helpers


def _pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{100.0 * x:.{digits}f}%"


def _ci(ci) -> str:
    lo, hi = ci
    return f"{100.0 * lo:.1f}–{100.0 * hi:.1f}%"


def _num(x: float | None, fmt: str, unit: str = "") -> str:
    return "—" if x is None else f"{x:{fmt}}{unit}"


def _duration(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(s, 60)
    if m < 60:
        return f"{int(m)} min {sec:.0f} s"
    h, m = divmod(m, 60)
    return f"{int(h)} h {int(m)} min"


def _overall_group(summary: dict) -> dict:
    return {"n": summary["n"], "success_rate": summary["success_rate"], "ci95": summary["ci95"]}


# --------------------------------------------------------------------------------------------
# console


def print_summary(summary: dict, console=None) -> None:
    """Print the summary as rich tables (per category + overall, per family) and a few lines."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()

    def rate_style(rate: float) -> str:
        return "green" if rate >= 0.8 else "yellow" if rate > CHANCE + 0.05 else "red"

    def rate_table(title: str, first: str, groups: dict) -> Table:
        t = Table(title=title, title_justify="left")
        t.add_column(first)
        t.add_column("n", justify="right")
        t.add_column("success", justify="right")
        t.add_column("95% CI", justify="right")
        for name, g in groups.items():
            t.add_row(name, str(g["n"]), f"[{rate_style(g['success_rate'])}]{_pct(g['success_rate'])}[/]", _ci(g["ci95"]))
        return t

    title = f"{summary['suite']} · {summary['policy']}"
    if summary.get("reasoner"):
        title += f" + {summary['reasoner']}"
    t = rate_table(title, "category", summary["by_category"])
    ov = _overall_group(summary)
    t.add_section()
    t.add_row("[bold]overall[/]", f"[bold]{ov['n']}[/]",
              f"[bold {rate_style(ov['success_rate'])}]{_pct(ov['success_rate'])}[/]", f"[bold]{_ci(ov['ci95'])}[/]")
    console.print(t)
    if summary["by_family"]:
        console.print(rate_table("by family", "family", summary["by_family"]))
    if _looks_shown(summary):
        t = Table(title="by look", title_justify="left")
        t.add_column("look")
        cols = _look_columns(summary)
        for c in cols:
            t.add_column(c, justify="right")
        t.add_column("rewrite", justify="right")
        for look, row in summary["by_look"].items():
            t.add_row(look, *(f"[{rate_style(row[c]['success_rate'])}]{_pct(row[c]['success_rate'])}[/]" if c in row else "-"
                              for c in cols), _pct(row.get("rewrite_accuracy")))
        console.print(t)

    fails = " · ".join(f"{_FAILURE_LABELS[f]} {summary['failures'][f]}" for f in FAILURES)
    console.print(f"failures: {fails}")
    lat = summary["policy_latency_ms"]
    console.print(
        f"time to goal {_num(summary['time_to_goal_s'], '.2f', ' s')} · path {_num(summary['path_length_m'], '.2f', ' m')}"
        f" · policy latency {_num(lat['mean'], '.1f', ' ms')} (p99 {_num(lat['p99'], '.1f', ' ms')})"
    )
    if summary["rewrite_accuracy"] is not None:
        rl = summary.get("reasoner_latency_ms", {}).get("mean")
        console.print(f"rewrite accuracy: {_pct(summary['rewrite_accuracy'])}" + (f" · reasoner latency {rl:.1f} ms per call" if rl else ""))
    doubt = summary.get("doubt")
    if doubt:
        console.print("not flying the policy: " + " · ".join(
            f"{label} in {doubt[k]['episodes']} episode(s) ({doubt[k]['succeeded']} succeeded)"
            for k, label in (("unflyable", "unflyable frames"), ("searching", "searching"), ("gate_lost", "gate lost"))))
    faults = summary.get("faults")
    if faults:
        console.print("parts: " + " · ".join(f"{_FAULT_LABELS[k]} {faults[k]['count']}" for k in FAULTS))
    console.print(f"prompt: {summary['prompt']} · wall time {_duration(summary['wall_s'])}")


# --------------------------------------------------------------------------------------------
# files


def _md_group_table(first_col: str, groups: dict, overall: dict | None = None) -> list[str]:
    lines = [f"| {first_col} | n | success | 95% CI |", "|---|---:|---:|---:|"]
    for name, g in groups.items():
        lines.append(f"| {name} | {g['n']} | {_pct(g['success_rate'])} | {_ci(g['ci95'])} |")
    if overall is not None:
        lines.append(f"| **overall** | **{overall['n']}** | **{_pct(overall['success_rate'])}** | **{_ci(overall['ci95'])}** |")
    return lines


def _md_fault_table(summary: dict) -> list[str]:
    """## Faults of the parts: what went wrong in the reasoner, the policy and the safety filter."""
    faults = summary.get("faults")
    if not faults:
        return []
    return ["## Faults of the parts", "", "| part | count | episodes |", "|---|---:|---:|",
            *[f"| {_FAULT_LABELS[k]} | {faults[k]['count']} | {faults[k]['episodes']} |" for k in FAULTS], ""]


def _md_look_table(summary: dict) -> list[str]:
    """## By look: looks x categories (only when a run flew a look other than classic)."""
    if not _looks_shown(summary):
        return []
    cols = _look_columns(summary)
    lines = ["## By look", "", "| look | " + " | ".join(cols) + " | rewrite accuracy |",
             "|---|" + "---:|" * (len(cols) + 1)]
    for look, row in summary["by_look"].items():
        cells = [f"{_pct(row[c]['success_rate'])} ({row[c]['n']})" if c in row else "-" for c in cols]
        lines.append(f"| {look} | " + " | ".join(cells) + f" | {_pct(row.get('rewrite_accuracy'))} |")
    return lines + ["", "Looks: docs/design.md, Looks; each episode's look is `sample_look(look, look_seed)` "
                        "from its row in results.json.", ""]


def _video_rows(summary: dict, out_dir: Path) -> list[str]:
    vdir = out_dir / VIDEOS_DIR
    if not vdir.is_dir():
        return []
    # Videos are named by episode id, and by id and look for a look other than classic.
    eps = {str(e.get("episode_id")) + ("" if e.get("look", "classic") == "classic" else f"-{e['look']}"): e
           for e in summary.get("episodes", [])}
    # Only this run's episodes: a leftover from another run linked here would mix the runs.
    videos = sorted(p for p in vdir.iterdir()
                    if p.is_file() and p.suffix.lower() in (".mp4", ".webm", ".gif") and p.stem in eps)
    if not videos:
        return []
    lines = ["## Videos", "", "| episode | category | family | outcome | video |", "|---|---|---|---|---|"]
    for p in videos:
        e = eps[p.stem]
        lines.append(
            f"| {p.stem} | {e.get('category', '')} | {e.get('family', '')} | {e.get('outcome', '')} "
            f"| [{p.name}]({VIDEOS_DIR}/{p.name}) |"
        )
    return lines + [""]


def render_markdown(summary: dict, out_dir: str | Path | None = None) -> str:
    """report.md's text. `out_dir` is only looked at for a videos/ folder to link."""
    s = summary
    lat = s["policy_latency_ms"]
    lines = [
        f"# CognitiveDroneBench: {s['suite']} · {s['policy']}",
        "",
        f"- suite: `{s['suite']}`",
        f"- policy: `{s['policy']}`",
        f"- prompt: `{s['prompt']}`",
        f"- reasoner: `{s['reasoner']}`" if s["reasoner"] else "- reasoner: none",
        f"- engine: `{s['engine']}`" if s["engine"] else "- engine: none",
        f"- look: {', '.join(f'`{k}`' for k in (s.get('by_look') or {'classic': None}))}",
        "",
        f"**Overall success: {_pct(s['success_rate'])}** ({round(s['success_rate'] * s['n'])}"
        f" of {s['n']} episodes; 95% CI {_ci(s['ci95'])}; chance {_pct(CHANCE)})",
        "",
        "## By category",
        "",
        *_md_group_table("category", s["by_category"], _overall_group(s)),
        "",
        f"![]({PLOT_PNG})",
        "",
        "## By family",
        "",
        *_md_group_table("family", s["by_family"]),
        "",
        *_md_look_table(s),
        "## Failures",
        "",
        "| failure | episodes | share of all |",
        "|---|---:|---:|",
        *[
            f"| {_FAILURE_LABELS[f]} | {s['failures'][f]} | {_pct(s['failures'][f] / s['n'] if s['n'] else None)} |"
            for f in FAILURES
        ],
        "",
        *_md_fault_table(s),
        "## Flight and timing",
        "",
        "| metric | value |",
        "|---|---:|",
        f"| mean time to goal (successes) | {_num(s['time_to_goal_s'], '.2f', ' s')} |",
        f"| mean path length | {_num(s['path_length_m'], '.2f', ' m')} |",
        f"| policy latency, mean | {_num(lat['mean'], '.1f', ' ms')} |",
        f"| policy latency, p99 | {_num(lat['p99'], '.1f', ' ms')} |",
        f"| rewrite accuracy | {_pct(s['rewrite_accuracy'])} |",
        f"| wall time | {_duration(s['wall_s'])} |",
        "",
    ]
    if out_dir is not None:
        lines += _video_rows(s, Path(out_dir))
    lines += [
        "## How to read this",
        "",
        "Each episode shows three gates with a picture above each and an instruction that names exactly one, "
        "so a policy that picks a gate at random and flies it perfectly succeeds about 33% of the time "
        "(the dashed line in the plot). Success means the drone flew through the correct gate's opening within "
        "the time limit. Each 95% CI is a Wilson score interval (it stays inside 0–100% and is honest for small n "
        "and rates near 0 or 100%): with tens of episodes per row the intervals are wide, and rows whose "
        "intervals overlap substantially are not reliably different. "
        "Failure kinds: *wrong gate* = flew through another gate's opening; *collision* = touched a gate, "
        "billboard or the floor; *out of bounds* = more than 10 m from every gate; *timeout* = none of these "
        "before the time limit. Time to goal is averaged over successful episodes only; path length over all. "
        "Policy latency is the wall time of one policy decision. Rewrite accuracy (when a reasoner runs) is the "
        "share of judged episodes whose rewritten instruction named the correct gate.",
        "",
    ]
    return "\n".join(lines)


def plot_success(summary: dict, path: str | Path) -> Path:
    """Bar chart of success per category and overall, with Wilson error bars and the chance line."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    groups = list(summary["by_category"].items()) + [("overall", _overall_group(summary))]
    names = [g[0] for g in groups]
    rates = np.array([100.0 * g[1]["success_rate"] for g in groups])
    lo = np.array([100.0 * g[1]["ci95"][0] for g in groups])
    hi = np.array([100.0 * g[1]["ci95"][1] for g in groups])
    yerr = np.vstack([np.clip(rates - lo, 0, None), np.clip(hi - rates, 0, None)])

    fig = Figure(figsize=(max(4.5, 1.3 * len(groups) + 1.5), 4.2), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(groups))
    colors = ["#4c72b0"] * (len(groups) - 1) + ["#55a868"]
    ax.bar(x, rates, yerr=yerr, capsize=5, color=colors, edgecolor="black", linewidth=0.6,
           error_kw={"elinewidth": 1.2, "ecolor": "#222222"}, zorder=2)
    ax.axhline(100.0 * CHANCE, color="#c44e52", linestyle="--", linewidth=1.2, label="chance (3 gates)", zorder=3)
    ax.set_xticks(x)
    ax.set_xticklabels([f"{nm}\n{r:.1f}%  (n={g[1]['n']})" for nm, r, g in zip(names, rates, groups)])
    ax.set_ylim(0, 100)
    ax.set_ylabel("success (%)")
    ax.yaxis.grid(True, color="#dddddd", zorder=0)
    ax.set_axisbelow(True)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False, borderaxespad=0.2)
    ax.set_title(f"{summary['suite']} · {summary['policy']}: success (95% Wilson CI)", fontsize=10, loc="left")
    fig.tight_layout()
    fig.savefig(path)
    return path


def write_report(summary: dict, out_dir: str | Path) -> dict[str, Path]:
    """Write results.json, report.md and success_by_category.png into `out_dir` (created if needed).

    Returns {"results": ..., "report": ..., "plot": ...}.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"results": out_dir / RESULTS_JSON, "report": out_dir / REPORT_MD, "plot": out_dir / PLOT_PNG}

    text = json.dumps(_clean(summary), indent=2, allow_nan=False, ensure_ascii=False)
    tmp = paths["results"].with_suffix(".json.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(paths["results"])

    plot_success(summary, paths["plot"])
    paths["report"].write_text(render_markdown(summary, out_dir), encoding="utf-8")
    return paths


# Settings a resumed run may change: they do not change what is flown.
RESUME_FREE = ("workers", "executor", "out", "resume")


def claim_out_dir(out_dir: str | Path, settings: dict, overwrite: bool = False, resume: bool = False) -> Path:
    """Make `out_dir` this run's before anything flies, so a bad `--out` fails in a second, not
    after the whole suite: create it, refuse a folder that holds files, and write RUN_JSON there
    (which also proves it is writable).

    A folder with an earlier run is refused (the new report would sit beside its videos) unless
    `overwrite`, which removes that run's files (RUN_FILES) first, or `resume`, which keeps its
    journal (cognitivedrone.bench.journal) and videos when its settings match these (all but
    RESUME_FREE), so the run carries on. A non-empty folder without a run is refused either way:
    its files are not ours to delete. Raises ValueError, one line.
    """
    import shutil

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a folder for the run")
    try:
        out.mkdir(parents=True, exist_ok=True)
        present = sorted(p.name for p in out.iterdir())
        ours = [n for n in present if n in RUN_FILES]
        others = [n for n in present if n not in RUN_FILES]
        if others and not ours:
            raise ValueError(f"--out {out} is not empty and holds no bench run ({_listing(others)}); "
                             f"pick another folder")
        if ours and resume:
            _check_resumable(out, settings)
            ours = [n for n in ours if n not in (JOURNAL, VIDEOS_DIR)]
        elif ours and not overwrite:
            raise ValueError(f"--out {out} already holds a run ({_listing(present)}); pick another folder, "
                             f"pass --resume to carry it on or --overwrite to replace it")
        for name in ours:
            p = out / name
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
        with open(out / RUN_JSON, "x", encoding="utf-8") as f:  # "x": a second run started at once fails here
            f.write(json.dumps(_clean(settings), indent=2, ensure_ascii=False) + "\n")
    except FileExistsError:  # RUN_JSON appeared after the check: another run claimed the folder
        raise ValueError(f"--out {out}: another run started there just now; pick another folder") from None
    except OSError as e:
        raise ValueError(f"--out {out}: cannot write there ({e.strerror or e})") from None
    return out


def _check_resumable(out: Path, settings: dict) -> None:
    from cognitivedrone.bounded_json import load_file

    try:
        before = load_file(out / RUN_JSON)
        if not isinstance(before, dict):
            raise ValueError("not an object")
    except (OSError, ValueError) as e:
        raise ValueError(f"--out {out}: cannot resume, its {RUN_JSON} does not read ({e}); "
                         f"pass --overwrite to fly the run again") from None
    now = _clean(settings)
    changed = sorted(k for k in set(before) | set(now) if k not in RESUME_FREE and before.get(k) != now.get(k))
    if changed:
        said = "; ".join(f"{k}: {before.get(k)!r} then, {now.get(k)!r} now" for k in changed[:3])
        raise ValueError(f"--out {out}: cannot resume, the run was started with other settings ({said}); "
                         f"pick another folder or pass --overwrite")


def _listing(names: list[str], most: int = 4) -> str:
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")
