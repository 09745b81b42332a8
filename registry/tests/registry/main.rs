//! The registry as a whole, through its public API, on temporary
//! directories. One test binary, one module per concern.

mod concurrency;
mod hostile;
mod lockfile;
mod publish;
mod resolve;
mod support;
