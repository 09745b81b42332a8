//! Inspect's `.eval` log file: a zip archive of JSON members, as
//! `inspect_ai/log/_recorders/eval.py` lays it out. The start record
//! (`_journal/start.json`), one member per sample
//! (`samples/ID_epoch_N.json`), the sample summaries (`summaries.json`,
//! which the viewer and the dataframes read without loading samples) and
//! the header (`header.json`: the log without its samples).
//!
//! Members are deflated (Inspect reads deflate and zstd) and carry no
//! timestamp, so one run exports to the same bytes every time. The file is
//! written beside its destination, under a name no reader lists, and
//! renamed into place, so a viewer watching the directory never sees half
//! a log.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::schema::{EvalHeader, EvalSample, EvalSampleSummary, LogStart};
use crate::ExportError;

pub struct EvalFile {
    path: PathBuf,
    partial: PathBuf,
    /// `None` once finished.
    zip: Option<ZipWriter<File>>,
    summaries: Vec<EvalSampleSummary>,
}

impl EvalFile {
    /// Starts the log at `path` with its start record.
    pub fn create(path: &Path, start: &LogStart<'_>) -> Result<Self, ExportError> {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let partial = path.with_file_name(format!(".{name}.partial"));
        let temp = File::create(&partial).map_err(|e| ExportError::io(partial.display(), e))?;
        let mut file = Self {
            path: path.to_owned(),
            partial,
            zip: Some(ZipWriter::new(temp)),
            summaries: Vec::new(),
        };
        file.member("_journal/start.json", start)?;
        Ok(file)
    }

    pub fn sample(
        &mut self,
        sample: &EvalSample,
        summary: EvalSampleSummary,
    ) -> Result<(), ExportError> {
        let name = format!("samples/{}_epoch_{}.json", sample.id, sample.epoch);
        self.member(&name, sample)?;
        self.summaries.push(summary);
        Ok(())
    }

    /// Writes the summaries and the header, and moves the file into place.
    pub fn finish(mut self, header: &EvalHeader<'_>) -> Result<PathBuf, ExportError> {
        let summaries = std::mem::take(&mut self.summaries);
        self.member("summaries.json", &summaries)?;
        self.member("header.json", header)?;
        let zip = self.zip.take().ok_or_else(|| finished(&self.path))?;
        let done = zip
            .finish()
            .map_err(|e| zip_error(&self.path, e))
            .and_then(|file| {
                file.sync_all()
                    .and_then(|()| std::fs::rename(&self.partial, &self.path))
                    .map_err(|e| ExportError::io(self.path.display(), e))
            });
        if done.is_err() {
            let _ = std::fs::remove_file(&self.partial);
        }
        done.map(|()| self.path.clone())
    }

    fn member(&mut self, name: &str, value: &impl Serialize) -> Result<(), ExportError> {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default());
        let path = &self.path;
        let zip = self.zip.as_mut().ok_or_else(|| finished(path))?;
        zip.start_file(name, options)
            .map_err(|e| zip_error(path, e))?;
        serde_json::to_writer(&mut *zip, value)?;
        zip.flush().map_err(|e| ExportError::io(path.display(), e))
    }
}

fn finished(path: &Path) -> ExportError {
    zip_error(
        path,
        zip::result::ZipError::Io(std::io::Error::other("the log was already finished")),
    )
}

fn zip_error(path: &Path, source: zip::result::ZipError) -> ExportError {
    ExportError::Zip {
        path: path.to_owned(),
        source,
    }
}

/// A log that was not finished leaves no file behind.
impl Drop for EvalFile {
    fn drop(&mut self) {
        if self.zip.is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}
