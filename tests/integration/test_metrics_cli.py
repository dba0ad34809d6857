"""`lambent metrics NAME`: a function's Lambda metrics as sparklines, read through CloudWatch's
GetMetricData."""

import re

from conftest import create_function, invoke_json, run_lambent

HANDLER = """import time

def handler(event, context):
    time.sleep(event.get("ms", 0) / 1000)
    if event.get("fail"):
        raise ValueError("failed on purpose")
    return "ok"
"""

LABELS = ["Invocations", "Errors", "Throttles", "Duration avg", "Duration p99",
          "Concurrency max", "IteratorAge max"]
BLOCKS = set("▁▂▃▄▅▆▇█")


def chart_lines(output):
    """Maps each metric label to the rest of its line."""
    lines = {}
    for line in output.splitlines()[1:]:
        label = next((label for label in LABELS if line.startswith(label)), None)
        assert label, line
        lines[label] = line[len(label):]
    return lines


def test_metrics_chart_shows_counts(server, lam):
    name = create_function(lam, {"app.py": HANDLER})
    for _ in range(5):
        invoke_json(lam, name, {"ms": 20})
    for _ in range(2):
        response, _ = invoke_json(lam, name, {"fail": True})
        assert response["FunctionError"] == "Unhandled"

    result = run_lambent(server, "metrics", name, "--since", "10m", "--period", "60")
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{name}: ")
    assert lines[0].endswith("UTC, 60 s periods")
    charts = chart_lines(result.stdout)
    assert list(charts) == LABELS
    for line in lines[1:]:
        assert len(line) <= 80, line

    assert charts["Invocations"].rstrip().endswith("total 7")
    assert charts["Errors"].rstrip().endswith("total 2")
    assert re.search(r"(no data|total 0)$", charts["Throttles"].rstrip())
    assert BLOCKS & set(charts["Invocations"])
    # Durations: the sleeping invocations take at least 20 ms.
    duration = re.search(r"([\d.]+)(?:–([\d.]+))? ms$", charts["Duration p99"].rstrip())
    assert duration, charts["Duration p99"]
    assert float(duration.group(duration.lastindex)) >= 20
    assert charts["Concurrency max"].rstrip().endswith("1")
    assert charts["IteratorAge max"].rstrip().endswith("no data")


def test_metrics_of_idle_function(server, lam):
    name = create_function(lam, {"app.py": HANDLER})
    result = run_lambent(server, "metrics", name, "--since", "5m")
    charts = chart_lines(result.stdout)
    for label in LABELS:
        assert charts[label].rstrip().endswith("no data"), (label, charts[label])
        assert not BLOCKS & set(charts[label])


def test_metrics_long_window_fits_80_columns(server, lam):
    name = create_function(lam, {"app.py": HANDLER})
    invoke_json(lam, name, {})
    result = run_lambent(server, "metrics", name, "--since", "3h", "--period", "60")
    lines = result.stdout.splitlines()
    # 180 or 181 periods in 44 characters: five periods per character.
    assert lines[0].endswith(", 5 per character"), lines[0]
    for line in lines[1:]:
        assert len(line) <= 80, line
    assert chart_lines(result.stdout)["Invocations"].rstrip().endswith("total 1")


def test_metrics_rejects_bad_options(server):
    result = run_lambent(server, "metrics", "any", "--period", "45", check=False)
    assert result.returncode == 2
    assert "invalid --period 45" in result.stderr
    result = run_lambent(server, "metrics", "any", "--since", "an hour", check=False)
    assert result.returncode == 2
    assert "invalid --since 'an hour'" in result.stderr
