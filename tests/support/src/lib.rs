//! Test support shared by the end-to-end tests and the benchmarks.

pub mod cpu;
pub mod fake_batch;
pub mod fake_openai;
pub mod guests;
pub mod s3;
