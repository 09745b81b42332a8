//! `crucible report`: a run as one self-contained HTML page. Charts of
//! harmful rates with their intervals grouped as the study's figures are,
//! heatmaps of the condition matrix, secondary classifiers' rates, and a
//! transcript browser over every sample, with its verdicts and judge
//! exchanges. The page loads nothing: style, script and data are inline,
//! and it opens from a file with no server and no network.
//!
//! Everything shown comes from the run, and transcripts are hostile
//! input: the markup is written with `maud`, which escapes every value it
//! interpolates; the samples travel as JSON that cannot close its
//! `<script>` element; and the script builds the browser from text nodes
//! only, never parsing data as markup.

mod charts;
mod comparison;
mod data;
mod format;
mod header;
mod heatmap;
mod page;
mod tables;

pub use data::VerdictClass;
pub use tables::{Comparison, ComparisonRow, RateCount};

use crate::results::{RunResults, figures};

/// What the page shows.
pub struct ReportInput<'a> {
    pub run: &'a RunResults,
    /// A comparison with another run or label set (`crucible diff`),
    /// shown in its own section when given.
    pub comparison: Option<&'a Comparison>,
}

/// Why the page could not be written.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    #[error("encoding the run's samples for the report: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The report, as one HTML document.
pub fn render(input: &ReportInput<'_>) -> Result<String, HtmlError> {
    let cells = figures(input.run);
    let data = data::json_for_script(&data::PageData::of(input.run))?;
    Ok(page::document(input, &cells, &data).into_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{SampleRecord, VerdictRecord};
    use crate::results::{SampleResult, SampleStatus};
    use crate::transcript::{Condition, Param, Verdict};

    fn sample(
        id: i64,
        scenario: &str,
        condition: &str,
        params: &[(&str, &str)],
        harmful: bool,
    ) -> SampleResult {
        SampleResult {
            id,
            model: "m/one".into(),
            scenario: scenario.into(),
            condition_id: condition.into(),
            condition: Condition {
                id: condition.into(),
                params: params
                    .iter()
                    .map(|(name, value)| Param {
                        name: (*name).into(),
                        value: (*value).into(),
                    })
                    .collect(),
            },
            sample_index: 0,
            seed: 1,
            status: SampleStatus::Completed,
            record: SampleRecord {
                verdicts: vec![VerdictRecord {
                    classifier: "c@1".into(),
                    outcome: Ok(Verdict {
                        harmful,
                        label: "x".into(),
                        score: 1.0,
                        explanation: String::new(),
                        evidence: Vec::new(),
                        judged: false,
                    }),
                    judge: Vec::new(),
                }],
                ..SampleRecord::default()
            },
        }
    }

    fn run() -> RunResults {
        let matrix = |goal, urgency| {
            [
                ("goal_type", goal),
                ("goal_value", "v"),
                ("urgency", urgency),
            ]
        };
        RunResults {
            run_id: "r".into(),
            config: serde_json::json!({"suite_name": "t", "judge": null}),
            suite_manifest: String::new(),
            lockfile: None,
            plugins: Vec::new(),
            label_sets: Vec::new(),
            samples: vec![
                sample(1, "study", "a", &matrix("explicit", "replacement"), true),
                sample(2, "study", "b", &matrix("explicit", "none"), false),
                sample(3, "study", "c", &matrix("latent", "replacement"), true),
                sample(4, "community", "d", &[("difficulty", "hard")], true),
            ],
        }
    }

    #[test]
    fn a_heatmap_cell_per_goal_type_and_urgency_and_none_without_them() {
        let run = run();
        let page = render(&ReportInput {
            run: &run,
            comparison: None,
        })
        .expect("renders");
        assert_eq!(page.matches("class=\"hm-cell").count(), 3);
        assert!(page.contains("community"));
        assert!(!page.contains("id=\"comparison\""));
    }

    #[test]
    fn a_comparison_given_is_a_section_of_its_own() {
        let run = run();
        let comparison = Comparison {
            a: "run-a".into(),
            b: "run-b".into(),
            rows: vec![ComparisonRow {
                model: "m/one".into(),
                scenario: "study".into(),
                condition: "all conditions".into(),
                a: RateCount {
                    harmful: 1,
                    completed: 4,
                },
                b: RateCount {
                    harmful: 3,
                    completed: 4,
                },
                difference: Some(0.5),
                ci: None,
                p_value: Some(0.2),
                test: None,
            }],
        };
        let page = render(&ReportInput {
            run: &run,
            comparison: Some(&comparison),
        })
        .expect("renders");
        assert!(page.contains("id=\"comparison\""));
        assert!(page.contains("+50.0 pp"));
        assert!(page.contains("href=\"#comparison\""));
    }

    #[test]
    fn the_inline_style_and_script_cannot_end_their_elements() {
        for (asset, end) in [(page::SCRIPT, "</script"), (page::STYLE, "</style")] {
            assert!(!asset.to_ascii_lowercase().contains(end));
            assert!(!asset.contains("<!--"));
        }
    }
}
