//! One file per subcommand: its flags (`...Args`) and `exec`, which turns
//! them into a library call and prints what came of it.

pub mod build;
pub mod bundle;
pub mod check;
pub mod dev;
pub mod diff;
pub mod export;
pub mod info;
pub mod inspect;
pub mod lock;
pub mod merge;
pub mod new;
pub mod publish;
pub mod registry;
pub mod report;
pub mod rescore;
pub mod run;
pub mod search;
pub mod show;
pub mod summary;
pub mod test;
pub mod update;
pub mod verify;
pub mod yank;
