"""Benchmark results: kept as JSON in bench/results/ and rendered into docs/performance.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "performance.md"


def percentiles(seconds: list[float]) -> dict[str, float]:
    """p50/p95/p99/max of durations given in seconds, in milliseconds."""
    if not seconds:
        return {}
    ordered = sorted(seconds)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {
        "n": len(ordered),
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1] * 1000, 2),
    }


def _table(rows: list[list[object]]) -> str:
    header, *body = rows
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in body]
    return "\n".join(lines)


def render_load(result: dict) -> str:
    latency = [["webhook", "requests", "p50 ms", "p95 ms", "p99 ms", "max ms"]]
    for name, p in [
        *result["latency_ms"].items(),
        ("all webhooks", result["all_webhooks_latency_ms"]),
        ("incoming alone (new calls only)", result["incoming_only_latency_ms"]),
        ("floor (bare Django view)", result["floor_latency_ms"]),
        ("write floor (bare view, one INSERT)", result["write_floor_latency_ms"]),
        ("floor B (bare view, one indexed SELECT, one INSERT)", result["floor_b_latency_ms"]),
    ]:
        latency.append([name, p["n"], p["p50"], p["p95"], p["p99"], p["max"]])
    rows = result["rows"]
    paced = result["paced"]
    paced_latency = [["webhook", "requests", "p50 ms", "p95 ms", "p99 ms", "max ms"]]
    for name, p in [
        *paced["latency_ms"].items(),
        ("all webhooks", paced["all_webhooks_latency_ms"]),
    ]:
        paced_latency.append([name, p["n"], p["p50"], p["p95"], p["p99"], p["max"]])
    return "\n".join(
        [
            f"Measured {result['when']} on {result['machine']} ({result['server']}), "
            f"{result['concurrency']} concurrent calls for {result['seconds']} s, load from "
            "separate processes on the same machine.",
            "",
            _table(
                [
                    ["figure", "value"],
                    ["whole calls per second", result["calls_per_second"]],
                    ["webhook requests per second", result["webhook_requests_per_second"]],
                    ["floor requests per second", result["floor_requests_per_second"]],
                    ["**ratio to the floor**", f"**{result['ratio_to_floor']}**"],
                    [
                        "write floor requests per second (bare view, one INSERT)",
                        result["write_floor_requests_per_second"],
                    ],
                    ["write floor's ratio to the floor", result["write_floor_ratio_to_floor"]],
                    ["**ratio to the write floor**", f"**{result['ratio_to_write_floor']}**"],
                    [
                        "floor B requests per second (bare view, indexed SELECT + INSERT)",
                        result["floor_b_requests_per_second"],
                    ],
                    ["floor B's ratio to the floor", result["floor_b_ratio_to_floor"]],
                    [
                        "incoming webhook alone, requests per second",
                        result["incoming_requests_per_second"],
                    ],
                    [
                        "**incoming webhook / floor B** (aim 0.8; median of rounds)",
                        f"**{result['incoming_ratio_to_floor_b']}** "
                        f"({', '.join(str(r['incoming_ratio']) for r in result['rounds'])})",
                    ],
                    [
                        "**whole-call mix / floor B** (aim 0.6; median of rounds)",
                        f"**{result['mix_ratio_to_floor_b']}** "
                        f"({', '.join(str(r['mix_ratio']) for r in result['rounds'])})",
                    ],
                    ["request errors", result["errors"]],
                    ["calls driven / rows", f"{rows['calls']} / {rows['rows']}"],
                    [
                        "missing / duplicated / wrong outcome",
                        f"{rows['missing']} / {rows['duplicated']} / {rows['wrong_outcome']}",
                    ],
                ]
            ),
            "",
            "**Saturation**: each simulated call makes its next request as soon as the last one "
            "is answered, so the server is never idle and latency is mostly queueing.",
            "",
            _table(latency),
            "",
            f"**Paced**: {result['concurrency']} concurrent calls with a real call's gaps "
            f"between webhooks (ringing, whisper and key, talk) divided by {paced['pace']:g}; "
            f"{paced['calls']} calls, {paced['requests_per_second']} requests per second.",
            "",
            _table(paced_latency),
            *_render_sweep(result.get("sweep")),
        ]
    )


def _render_sweep(sweep: dict | None) -> list[str]:
    if not sweep:
        return []
    rows = [
        [
            "workers",
            "floor B req/s",
            "incoming req/s",
            "incoming / floor B",
            "whole calls/s",
            "webhook req/s",
            "mix / floor B",
            "p99 ms",
            "errors",
        ]
    ]
    for row in sweep["rows"]:
        rows.append(
            [
                row["workers"],
                row["floor_b_rps"],
                row["incoming_rps"],
                row["incoming_ratio_to_floor_b"],
                row["calls_per_second"],
                row["webhook_rps"],
                row["mix_ratio_to_floor_b"],
                row["p99_ms"],
                row["errors"],
            ]
        )
    return [
        "",
        "**Worker sweep** (`--sweep-workers`, shorter phases, same machine and run): "
        f"recommended **{sweep['recommended_workers']} workers**, the fewest that serve within "
        "3 % of the most whole calls per second.",
        "",
        _table(rows),
    ]


def render_scale(result: dict) -> str:
    rows = [["measurement", "median ms", "ratio (to raw SQL unless said)"]]
    for name, figure in result["timings"].items():
        rows.append([name, figure["median_ms"], figure.get("ratio", "")])
    return "\n".join(
        [
            f"Measured {result['when']} on {result['machine']}, {result['calls']:,} calls in "
            f"PostgreSQL, median of {result['repeats']} runs each.",
            "",
            _table(rows),
        ]
    )


def render_webhooks(result: dict) -> str:
    rows = [["webhook", "no endpoint, median ms", "one endpoint, median ms", "ratio"]]
    for hook in ("incoming", "status"):
        rows.append(
            [
                hook,
                result["median_ms"]["none"][hook],
                result["median_ms"]["endpoint"][hook],
                result["ratio"][hook],
            ]
        )
    return "\n".join(
        [
            f"Measured {result['when']} on {result['machine']}, in process on PostgreSQL, "
            f"{result['repeats']} alternating rounds of {result['calls']} calls each way; jobs "
            f"written per call: {result['jobs_per_call']['none']:g} without an endpoint, "
            f"{result['jobs_per_call']['endpoint']:g} with one.",
            "",
            _table(rows),
        ]
    )


def render_profile(result: dict) -> str:
    means = [["request", "mean ms (in process)"]]
    means += [[name, value] for name, value in result["mean_ms"].items()]
    parts = {name: {"incoming": ms} for name, ms in result["incoming_ms_by_part"]}
    for name, ms in result["mix_ms_by_part"]:
        parts.setdefault(name, {})["mix"] = ms
    for name, ms in result["floor_b_ms_by_part"]:
        parts.setdefault(name, {})["floor B"] = ms
    table = [["where (own time of each function)", "incoming", "whole-call mix", "floor B"]]
    for name, figures in parts.items():
        table.append([name, *(figures.get(key, "") for key in ("incoming", "mix", "floor B"))])
    table.append(
        [
            "**total under the profiler**",
            *(
                f"**{round(sum(ms for _, ms in result[key]), 2)}**"
                for key in ("incoming_ms_by_part", "mix_ms_by_part", "floor_b_ms_by_part")
            ),
        ]
    )
    bound = []
    mean = result["mean_ms"]
    if "floor C" in mean:
        times = mean["floor C"] / mean["floor B"]
        bound = [
            "",
            f"Floor C, the incoming call's own writes alone, takes {times:.2f} times floor B:"
            " an incoming webhook that did nothing else would reach "
            f"{mean['floor B'] / mean['floor C']:.2f} of floor B. The incoming webhook takes "
            f"{mean['incoming'] / mean['floor C']:.2f} times floor C.",
        ]
    return "\n".join(
        [
            f"Measured {result['when']} on {result['machine']}, {result['requests']} requests "
            "of each kind, in process (Django's WSGI handler, no HTTP server) on PostgreSQL.",
            "",
            _table(means),
            *bound,
            "",
            "Milliseconds per request under cProfile (which slows Python down about twofold; "
            "waiting on PostgreSQL shows as psycopg's own time), by where each function lives:",
            "",
            _table(table),
        ]
    )


def render_api(result: dict) -> str:
    rows = [["calls list page", "API median ms", "raw SQL median ms", "ratio to raw SQL"]]
    for name, figure in result["timings"].items():
        rows.append([name, figure["api_ms"], figure["raw_sql_ms"], figure["ratio"]])
    return "\n".join(
        [
            f"Measured {result['when']} on {result['machine']}, {result['calls']:,} calls in "
            f"PostgreSQL, {result['page_size']} calls a page, through DRF's test client with a "
            f"marketer's token; each figure the middle of three medians of {result['repeats']} "
            f"runs, the API and the raw SQL interleaved. Walking to page "
            f"{result['pages_walked']:,} by `next` links took {result['walk_seconds']} s.",
            "",
            _table(rows),
        ]
    )


def render_dni(result: dict) -> str:
    phases = result["phases"]
    names = {
        "database": "saturation, holds in the database",
        "redis": "saturation, holds in Redis",
        "paced-database": "paced, holds in the database",
        "paced-redis": "paced, holds in Redis",
        "one-database": "one visitor alone, holds in the database",
        "one-redis": "one visitor alone, holds in Redis",
    }
    rows = [
        [
            "phase",
            "requests/s",
            "ratio to floor",
            "p50 ms",
            "p99 ms",
            "claim p50 / p99 ms",
            "keep p50 / p99 ms",
            "visitors",
            "double holds",
            "errors",
        ]
    ]
    for name, phase in phases.items():
        latency = phase["latency_ms"]
        claim, keep = latency.get("claim", {}), latency.get("keep", {})
        rows.append(
            [
                names.get(name, name),
                phase["requests_per_second"],
                f"**{phase['ratio_to_floor']}**" if name == "redis" else phase["ratio_to_floor"],
                latency["all"]["p50"],
                latency["all"]["p99"],
                f"{claim.get('p50', '')} / {claim.get('p99', '')}",
                f"{keep.get('p50', '')} / {keep.get('p99', '')}",
                phase["visitors"],
                phase["shown_to_two_visitors"],
                phase["errors"],
            ]
        )
    floor = result["floor_latency_ms"]
    return "\n".join(
        [
            f"Measured {result['when']} on {result['machine']} ({result['server']}), "
            f"{result['visitors']} concurrent visitors for {result['seconds']:g} s per phase, "
            f"a pool of {result['pool']} numbers per phase, load from separate processes on "
            "the same machine.",
            "",
            _table(
                [
                    ["figure", "value"],
                    [
                        "floor requests per second (bare view, fixed JSON; before and after)",
                        f"{result['floor_requests_per_second']} "
                        f"({' and '.join(map(str, result['floor_runs_requests_per_second']))})",
                    ],
                    ["floor p50 / p99 ms", f"{floor['p50']} / {floor['p99']}"],
                    [
                        "floor, one visitor alone: p50 / p99 ms",
                        f"{result['one_visitor_floor_latency_ms']['p50']} / "
                        f"{result['one_visitor_floor_latency_ms']['p99']}",
                    ],
                    ["holds overlapping in the history (all phases)", result["overlapping_holds"]],
                ]
            ),
            "",
            _table(rows),
            "",
            f"Saturation: each visitor asks again as soon as it is answered. Paced: each waits "
            f"{result['gap']:g} s on average between requests. One visitor alone: the ratio is "
            "to the floor with one visitor alone too. A visitor claims a number, then "
            f"keeps it with {result['per_visitor'] - 1} requests, a view of another page and a "
            "heartbeat of the page open in turn (a page view writes the visit; a heartbeat "
            "within the minute writes nothing), before a new visitor takes its place, as long "
            "as the pool has numbers for new visitors. *Double holds*: pool numbers shown to "
            "two visitors in one phase (every hold outlasts the phase). Before each phase, "
            "every worker has answered visits to the phase's website from a page no source "
            "matches (no pool number taken): the figures are a running server's, not each "
            "worker's first request for a website it has never seen.",
            *_slowest(result["phases"].get("paced-redis")),
        ]
    )


def _slowest(phase: dict | None) -> list[str]:
    if not phase or not phase.get("slowest"):
        return []
    listed = ", ".join(
        f"{each['ms']} ms ({each['kind']}, at {each['at_second']} s)" for each in phase["slowest"]
    )
    return ["", f"Slowest requests, paced, holds in Redis: {listed}."]


def render_accuracy(result: dict) -> str:
    rows = [
        [
            "pool size",
            "calls",
            "right visit",
            "wrong visit",
            "source only (overflow)",
            "unattributed",
            "times ran out",
            "peak in use",
        ]
    ]
    for run in [*result["runs"], result["unlimited"]]:
        size = run["pool"]
        label = f"**{size} (suggested)**" if size == result["suggested_size"] else str(size)
        if run is result["unlimited"]:
            label = f"{size} (never runs out)"
        rows.append(
            [
                label,
                run["calls"],
                f"{run['right_pct']} %",
                f"{run['wrong_pct']} %",
                f"{run['source_only_pct']} %",
                f"{run['unattributed_pct']} %",
                run["times_ran_out"],
                run["peak_in_use"],
            ]
        )
    unlimited = result["unlimited"]
    return "\n".join(
        [
            f"Measured {result['when']}: {result['visitors']:,} visitors in a day, "
            f"{round(result['call_share'] * 100)} % of them calling, holds of "
            f"{result['hold_minutes']} minutes, heartbeats every "
            f"{result['heartbeat_seconds']} s, pool backend: {result['backend']}. The admin "
            f"suggested **{result['suggested_size']} numbers** from the day's traffic (peak "
            f"demand {unlimited['peak_demand']} visits at once).",
            "",
            _table(rows),
            "",
            f"Calls made after the caller's hold had ended: {unlimited['calls_after_hold']} of "
            f"{unlimited['calls']} (they can only be attributed if nobody took the number since).",
        ]
    )


RENDER = {
    "load": render_load,
    "scale": render_scale,
    "webhooks": render_webhooks,
    "profile": render_profile,
    "api": render_api,
    "dni": render_dni,
    "accuracy": render_accuracy,
}


def write_section(name: str, result: dict) -> None:
    """Save `result` and replace the `name` section of docs/performance.md with it."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = DOC.read_text()
    section = f"{start}\n{RENDER[name](result)}\n{end}"
    text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: section, text, flags=re.S)
    DOC.write_text(text)
