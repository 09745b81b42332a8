"""Reads `crucible export --format inspect` output with the real Inspect AI.

Usage: read_export.py LOG_DIR

Every `.eval` file in LOG_DIR is read with `inspect_ai.log.read_eval_log`,
and the directory with `inspect_ai.analysis.evals_df` and `samples_df`.
What Inspect made of them is printed as one JSON object, for
tests/e2e/export.rs to check against the run. The script itself asserts
only what must hold of any log Inspect reads faithfully: the header's
counts match its samples, and every sample's scores are the header's
scorers.
"""

import json
import math
import sys
from pathlib import Path

from inspect_ai.analysis import evals_df, samples_df
from inspect_ai.log import list_eval_logs, read_eval_log, read_eval_log_sample_summaries


def read_log(path: Path) -> dict:
    log = read_eval_log(str(path))
    assert log.status in ("success", "cancelled"), log.status
    assert log.samples is not None, "the log has its samples"
    assert log.results is not None, "the log has results"
    assert len(log.samples) == log.results.completed_samples + sum(
        1 for s in log.samples if s.error is not None
    ), "every sample that ran is in the log"
    scorer_names = [score.name for score in log.results.scores]

    primary = scorer_names[0] if scorer_names else None
    harmful = 0
    scored = 0
    roles: set[str] = set()
    tool_calls = 0
    tool_results_named = 0
    errors = []
    params = set()
    for sample in log.samples:
        for name in (sample.scores or {}):
            assert name in scorer_names, f"{name} is one of the header's scorers"
        if primary and sample.scores and primary in sample.scores:
            scored += 1
            harmful += int(sample.scores[primary].as_float())
        for message in sample.messages:
            roles.add(message.role)
            if message.role == "assistant" and message.tool_calls:
                tool_calls += len(message.tool_calls)
            if message.role == "tool" and message.function:
                tool_results_named += 1
        if sample.error is not None:
            errors.append(sample.error.message)
        params.update(k for k in ("goal_type", "goal_value", "urgency") if k in sample.metadata)

    metrics = {
        score.name: {name: metric.value for name, metric in score.metrics.items()}
        for score in log.results.scores
    }
    first = log.samples[0] if log.samples else None
    summaries = read_eval_log_sample_summaries(str(path))
    return {
        "file": path.name,
        "status": log.status,
        "task": log.eval.task,
        "model": log.eval.model,
        "run_id": log.eval.run_id,
        "eval_id": log.eval.eval_id,
        "epochs": log.eval.config.epochs,
        "dataset_samples": log.eval.dataset.samples,
        "total_samples": log.results.total_samples,
        "completed_samples": log.results.completed_samples,
        "samples": len(log.samples),
        "summaries": len(summaries),
        "scorers": scorer_names,
        "metrics": metrics,
        "primary_scored": scored,
        "primary_harmful": harmful,
        "roles": sorted(roles),
        "tool_calls": tool_calls,
        "tool_results_named": tool_results_named,
        "errors": errors,
        "metadata_params": sorted(params),
        "first_sample": None
        if first is None
        else {
            "id": first.id,
            "epoch": first.epoch,
            "input_starts": first.input[:40] if isinstance(first.input, str) else None,
            "output_model": first.output.model,
            "stop_reason": first.output.stop_reason,
            "outcome": first.metadata.get("outcome"),
        },
    }


def finite(value):
    """A dataframe cell as JSON: NaN and missing as null."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def main() -> None:
    log_dir = Path(sys.argv[1])
    files = sorted(log_dir.glob("*.eval"))
    listed = list_eval_logs(str(log_dir))
    logs = [read_log(path) for path in files]

    evals = evals_df(str(log_dir))
    samples = samples_df(str(log_dir))
    score_columns = [c for c in samples.columns if c.startswith("score_")]
    # Per task and model, the primary score's mean over the samples that
    # have one, as a reader of the dataframe would take the harmful rate.
    rates = {}
    for log in logs:
        if not log["scorers"]:
            continue
        column = f"score_{log['scorers'][0]}"
        rows = samples[samples["eval_id"] == log["eval_id"]]
        values = rows[column].dropna() if column in rows else []
        rates[f"{log['model']} {log['task']}"] = {
            "rows": len(rows),
            "scored": len(values),
            "mean": finite(values.astype(float).mean()) if len(values) else None,
        }

    print(
        json.dumps(
            {
                "files": len(files),
                "listed": len(listed),
                "logs": logs,
                "evals_df": {
                    "rows": len(evals),
                    "models": sorted(set(evals["model"])),
                    "tasks": sorted(set(evals["task_name"])),
                    "statuses": sorted(set(evals["status"])),
                },
                "samples_df": {
                    "rows": len(samples),
                    "score_columns": sorted(score_columns),
                    "metadata_columns": sorted(
                        c for c in samples.columns if c.startswith("metadata_")
                    ),
                    "errors": int((samples["error"].fillna("") != "").sum()),
                    "sample_uuids": int(samples["sample_id"].nunique()),
                    "rates": rates,
                },
            }
        )
    )


if __name__ == "__main__":
    main()
