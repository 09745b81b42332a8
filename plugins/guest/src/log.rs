//! Structured logging through the host. Records are stored with the sample
//! they belong to; nothing is printed by the plugin itself.

use crate::host;
use crate::types::{LogLevel, Param};

fn emit(level: LogLevel, message: &str, fields: &[(&str, &str)]) {
    let fields: Vec<Param> = fields
        .iter()
        .map(|(name, value)| Param::new(*name, *value))
        .collect();
    host::log(level, message, &fields);
}

pub fn debug(message: &str, fields: &[(&str, &str)]) {
    emit(LogLevel::Debug, message, fields);
}

pub fn info(message: &str, fields: &[(&str, &str)]) {
    emit(LogLevel::Info, message, fields);
}

pub fn warn(message: &str, fields: &[(&str, &str)]) {
    emit(LogLevel::Warn, message, fields);
}

pub fn error(message: &str, fields: &[(&str, &str)]) {
    emit(LogLevel::Error, message, fields);
}
