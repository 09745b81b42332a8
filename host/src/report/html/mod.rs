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
mod data;
mod format;
mod header;
mod heatmap;
mod page;
mod pooling;
mod tables;

pub use data::VerdictClass;
pub use pooling::{GroupKey, Grouping, Pooled, pool_cells};
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
