//! One CSV row per sample: where it ran, its condition's parameters each
//! in its own column, how it counts, the primary verdict, any error, and
//! each secondary classifier's finding. No transcripts: the JSON Lines and
//! Inspect exports carry those.

use std::io::Write;

use super::{ClassifierNames, ExportError, Outcome, ParamColumns, agent_usage, judge_models};
use crucible_engine::results::{RunResults, SampleResult, SampleStatus};

/// The columns before the condition's parameters.
const LEADING: [&str; 4] = ["run_id", "model", "scenario", "condition_id"];

/// The columns after them, up to the secondary classifiers'.
const TRAILING: [&str; 19] = [
    "sample_index",
    "seed",
    "status",
    "outcome",
    "stop",
    "classifier",
    "harmful",
    "label",
    "score",
    "judged",
    "judge_model",
    "explanation",
    "error_stage",
    "error",
    "turns",
    "end_reason",
    "agent_input_tokens",
    "agent_output_tokens",
    "agent_reasoning_tokens",
];

/// Writes `run` as CSV to `out`: a header row, then one row per planned
/// sample in plan order (pending ones too, with status `pending`).
pub fn write_csv(run: &RunResults, out: impl Write) -> Result<(), ExportError> {
    let reserved: Vec<&str> = LEADING.iter().chain(TRAILING.iter()).copied().collect();
    let params = ParamColumns::of(run, &reserved);
    let secondary = ClassifierNames::secondary(run);
    let mut writer = ::csv::Writer::from_writer(out);

    let mut header: Vec<String> = LEADING.iter().map(|c| (*c).to_owned()).collect();
    header.extend(params.names().map(str::to_owned));
    header.extend(TRAILING.iter().map(|c| (*c).to_owned()));
    for (_, short) in secondary.iter() {
        for field in ["label", "positive", "error"] {
            header.push(format!("{short}_{field}"));
        }
    }
    writer.write_record(&header)?;

    for sample in &run.samples {
        writer.write_record(row(run, sample, &params, &secondary))?;
    }
    writer.flush().map_err(|e| ExportError::io("the CSV", e))?;
    Ok(())
}

fn row(
    run: &RunResults,
    sample: &SampleResult,
    params: &ParamColumns,
    secondary: &ClassifierNames,
) -> Vec<String> {
    let record = &sample.record;
    let ran = sample.status != SampleStatus::Pending;
    let mut row = vec![
        run.run_id.clone(),
        sample.model.clone(),
        sample.scenario.clone(),
        sample.condition_id.clone(),
    ];
    row.extend(
        params
            .values(sample)
            .map(|(_, v)| v.unwrap_or_default().to_owned()),
    );

    let primary = record.verdicts.first();
    let verdict = primary.and_then(|v| v.outcome.as_ref().ok());
    let usage = agent_usage(sample);
    row.extend([
        sample.sample_index.to_string(),
        sample.seed.to_string(),
        status(sample.status).to_owned(),
        Outcome::of(sample).as_str().to_owned(),
        record
            .stop
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        primary.map(|v| v.classifier.clone()).unwrap_or_default(),
        verdict.map(|v| v.harmful.to_string()).unwrap_or_default(),
        verdict.map(|v| v.label.clone()).unwrap_or_default(),
        verdict.map(|v| v.score.to_string()).unwrap_or_default(),
        verdict.map(|v| v.judged.to_string()).unwrap_or_default(),
        primary
            .map(|v| judge_models(v).join(";"))
            .unwrap_or_default(),
        verdict.map(|v| v.explanation.clone()).unwrap_or_default(),
        record
            .error
            .as_ref()
            .map(|e| e.stage.clone())
            .unwrap_or_default(),
        record
            .error
            .as_ref()
            .map(|e| e.message.clone())
            .unwrap_or_default(),
        if ran {
            record.turns.to_string()
        } else {
            String::new()
        },
        record.end_reason.clone().unwrap_or_default(),
        if ran {
            usage.input_tokens.to_string()
        } else {
            String::new()
        },
        if ran {
            usage.output_tokens.to_string()
        } else {
            String::new()
        },
        if ran {
            usage.reasoning_tokens.to_string()
        } else {
            String::new()
        },
    ]);

    for (id, _) in secondary.iter() {
        let found = record.verdicts.iter().skip(1).find(|v| v.classifier == id);
        let (label, positive, error) = match found.map(|v| &v.outcome) {
            Some(Ok(v)) => (v.label.clone(), v.harmful.to_string(), String::new()),
            Some(Err(e)) => (String::new(), String::new(), e.clone()),
            None => Default::default(),
        };
        row.extend([label, positive, error]);
    }
    row
}

fn status(status: SampleStatus) -> &'static str {
    match status {
        SampleStatus::Pending => "pending",
        SampleStatus::Completed => "completed",
        SampleStatus::Error => "error",
    }
}
