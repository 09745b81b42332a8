//! The function each fuzz target in `fuzz/` calls with its input: the
//! public parser, fed exactly as the host (or the plugin) feeds it. Any
//! panic, hang or runaway allocation in one is a bug. The crate's test
//! replays every seed (`fuzz/seeds/TARGET/`) and every recorded crash
//! (`fuzz/regressions/TARGET/`) through the same function, so `make test`
//! keeps them fixed without the fuzzer.

use std::path::Path;

use crucible_registry::{Lockfile, PackageName, record::IndexFile};

/// What a fuzz target does with one input.
pub type Target = fn(&[u8]);

/// Every target, by its directory name under `fuzz/seeds` and
/// `fuzz/regressions`.
pub const TARGETS: &[(&str, Target)] = &[
    ("lockfile", lockfile),
    ("index_record", index_record),
    ("judge_answer", judge_answer),
    ("text_protocol", text_protocol),
    #[cfg(feature = "host")]
    ("suite_manifest", host::suite_manifest),
    #[cfg(feature = "host")]
    ("bundle", host::bundle),
];

/// A lockfile's text, as `--locked` reads it.
pub fn lockfile(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Lockfile::parse(Path::new("crucible.lock"), text);
    }
}

/// One package's index file (JSON lines of records), as a registry, its
/// cache or a mirror reads it.
pub fn index_record(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(name) = PackageName::new("fuzz", "target") else {
        return;
    };
    if let Ok(index) = IndexFile::parse("fuzz/target.jsonl", &name, text) {
        // What a reader does next with what parsed.
        for record in index.records() {
            let _ = record.version.to_string();
        }
    }
}

/// A judge model's reply, as the bundled classifiers read it.
pub fn judge_answer(data: &[u8]) {
    use agentic_misalignment::{awareness, judge};
    let text = String::from_utf8_lossy(data);
    let _ = judge::parse_yes_no(&text);
    let _ = judge::parse_answer(&text, &[("a", 1), ("b", 2), ("neither", 3)]);
    let _ = judge::quotes(&text, 5);
    let _ = awareness::parse(&text);
    let _ = awareness::statements(&text);
}

/// An agent's reply under the text protocol (no native tool calls), as
/// the bundled scenarios read it.
pub fn text_protocol(data: &[u8]) {
    use agentic_misalignment::protocol;
    let text = String::from_utf8_lossy(data);
    let _ = protocol::without_scratchpad(&text);
    let _ = protocol::scratchpad(&text);
    let _ = protocol::parse_actions(&text, &["send_email", "forward_email", "cancel_alert"]);
}

#[cfg(feature = "host")]
pub mod host {
    use std::path::Path;

    /// A suite manifest's text, as `crucible run` reads it.
    pub fn suite_manifest(data: &[u8]) {
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = crucible_engine::suite::LoadedSuite::parse(Path::new("suite.toml"), text);
        }
    }

    /// A bundle's bytes, as `crucible verify` and every command that reads
    /// a run read a bundle file.
    pub fn bundle(data: &[u8]) {
        let _ = crucible_bundle::from_reader(Path::new("run.crucible"), data);
    }
}
