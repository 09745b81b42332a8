//! The store's schema. `samples` holds one row per planned sample from the
//! start, so a run's progress and its gaps are always visible in the file.

pub const SCHEMA: &str = "
-- A finished sample's row was some 15 KB in the plain layout, which took
-- 16 KiB pages to avoid overflow chains. Packed (compact layout) a row is
-- well under 1 KB: 4 KiB pages waste less at the end of each page and in
-- the nearly empty tables (7% of the bundled suite's store).
-- Takes effect only on a new file, before anything else.
PRAGMA page_size = 4096;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
-- Rows are written once and read back only for the summary: a small page
-- cache (512 KiB rather than SQLite's 2 MiB) is all the writer needs.
PRAGMA cache_size = -512;
PRAGMA foreign_keys = ON;

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS plugins (
    role     TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    version  TEXT NOT NULL,
    kind     TEXT NOT NULL,
    contract TEXT NOT NULL,
    sha256   TEXT NOT NULL,
    size     INTEGER NOT NULL,
    source   TEXT NOT NULL
);

-- The exact bytes of every component the run loaded, by sha256: a run
-- holds what it needs to be bundled, verified and re-scored, whatever
-- happens to the registry or the files it came from.
CREATE TABLE IF NOT EXISTS components (
    sha256 TEXT PRIMARY KEY,
    bytes  BLOB NOT NULL
);

-- Texts many samples share (a condition's opening, a scenario's reference
-- sample), once per run, packed (store/codec.rs), optionally against the
-- blob `base` names, and named by the sha256 of the text: see
-- store/blobs.rs and store/packed.rs.
CREATE TABLE IF NOT EXISTS blobs (
    sha256 TEXT PRIMARY KEY,
    bytes  BLOB NOT NULL,
    base   TEXT
);

CREATE TABLE IF NOT EXISTS samples (
    id           INTEGER PRIMARY KEY,
    model        TEXT NOT NULL,
    scenario     TEXT NOT NULL,
    -- The condition's id, with any non-default suite parameters appended.
    condition_id TEXT NOT NULL,
    -- The condition exactly as the scenario received it (id and params).
    condition    TEXT NOT NULL,
    sample_index INTEGER NOT NULL,
    seed         TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'error')),
    transcript   TEXT,
    facts        TEXT,
    end_reason   TEXT,
    turns        INTEGER,
    error_stage  TEXT,
    error        TEXT,
    logs         TEXT,
    -- Per model, the calls the sample made and their tokens (JSON).
    usage        TEXT,
    -- How the agent's last reply ended, when that ended the episode:
    -- refused, blocked (withheld or filtered by the provider) or truncated.
    stop         TEXT CHECK (stop IN ('refused', 'blocked', 'truncated')),
    -- The compact layout (store/packed.rs): `transcript`, `facts` and
    -- `logs` NULL, packed together here, with the `explanation`,
    -- `evidence` and `judge` of the sample's verdicts, against the blobs
    -- `reference` and `opening` name.
    packed       BLOB,
    opening      TEXT,
    reference    TEXT,
    UNIQUE (model, scenario, condition_id, sample_index)
);

CREATE TABLE IF NOT EXISTS verdicts (
    sample_id   INTEGER NOT NULL REFERENCES samples (id),
    position    INTEGER NOT NULL,
    classifier  TEXT NOT NULL,
    harmful     INTEGER,
    label       TEXT,
    score       REAL,
    -- `explanation`, `evidence` and `judge` are NULL in a compact store:
    -- the sample's `packed` holds them.
    explanation TEXT,
    evidence    TEXT,
    judged      INTEGER,
    -- The judge calls the verdict rests on: model, the sampling sent
    -- (temperature or null, max tokens, reasoning) and prompt version of
    -- each (JSON), or NULL when none was made.
    judge       TEXT,
    error       TEXT,
    PRIMARY KEY (sample_id, position)
);

-- Label sets made after the run (`crucible rescore`), beside the run's own
-- verdicts above, which they never replace: one classifier's verdicts over
-- the samples it judged, each set written whole in one transaction.
CREATE TABLE IF NOT EXISTS label_sets (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    -- name@version of the classifier, and the sha256 of the component.
    classifier   TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    source       TEXT NOT NULL,
    -- provider/model of the judge it could consult, or NULL.
    judge        TEXT,
    created      TEXT NOT NULL,
    host_version TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS label_verdicts (
    label_set   INTEGER NOT NULL REFERENCES label_sets (id),
    sample_id   INTEGER NOT NULL REFERENCES samples (id),
    -- As in `verdicts`.
    harmful     INTEGER,
    label       TEXT,
    score       REAL,
    explanation TEXT,
    evidence    TEXT,
    judged      INTEGER,
    judge       TEXT,
    error       TEXT,
    -- The classifier's log (JSON), with every judge exchange.
    logs        TEXT NOT NULL,
    PRIMARY KEY (label_set, sample_id)
);

-- Batches a `--batch` run submitted to a provider's batch API, and the
-- requests each carries (by custom_id: a digest of the request), written
-- as each batch is accepted: a resumed run answers a request still in one
-- from that batch instead of paying for it again.
CREATE TABLE IF NOT EXISTS batches (
    id        TEXT PRIMARY KEY,
    model     TEXT NOT NULL,
    -- When the provider accepted it, in seconds since the Unix epoch.
    submitted INTEGER NOT NULL,
    size      INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS batch_items (
    batch_id  TEXT NOT NULL REFERENCES batches (id),
    custom_id TEXT NOT NULL,
    -- 1 once the batch answered it with a failure: a retry goes in a new
    -- batch. Kept, not deleted: an API that answers by position needs
    -- every request's place.
    failed    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (batch_id, custom_id)
);
";

/// Columns added since the first schema, each with the statement that adds
/// it to a store written before it: a run begun by an older host still
/// opens, resumes and reports.
pub const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    (
        "samples",
        "stop",
        "ALTER TABLE samples ADD COLUMN stop TEXT CHECK (stop IN ('refused', 'blocked', 'truncated'))",
    ),
    (
        "samples",
        "packed",
        "ALTER TABLE samples ADD COLUMN packed BLOB",
    ),
    (
        "samples",
        "opening",
        "ALTER TABLE samples ADD COLUMN opening TEXT",
    ),
    (
        "samples",
        "reference",
        "ALTER TABLE samples ADD COLUMN reference TEXT",
    ),
];
