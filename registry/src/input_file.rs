//! Reading a file a user (or a suite someone shared) named: regular files
//! only, never more than a documented size.
//!
//! `std::fs::read` on `/dev/zero` grows until memory runs out and on a FIFO
//! blocks forever; a symlink can point anywhere. Every path the host or the
//! registry reads on a user's behalf goes through here, so each kind of file
//! has one limit and one error for a file that is not a regular file or is
//! too large.
//!
//! Errors are `std::io::Error`s (kind `InvalidInput` or `FileTooLarge`)
//! carrying an [`InputFileError`]: every caller already reports an
//! `io::Error` together with the path it was reading, and `NotFound` keeps
//! its meaning for callers that treat a missing file as "none".

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// What a file is for, and the most bytes such a file may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeLimit {
    /// Names the kind of file in errors ("a suite manifest").
    pub what: &'static str,
    pub max_bytes: u64,
}

const MIB: u64 = 1024 * 1024;

/// A suite manifest (`*.toml`): a page of settings.
pub const SUITE_MANIFEST: SizeLimit = SizeLimit {
    what: "a suite manifest",
    max_bytes: MIB,
};
/// A lockfile: a few lines per pinned plugin.
pub const LOCKFILE: SizeLimit = SizeLimit {
    what: "a lockfile",
    max_bytes: 16 * MIB,
};
/// A WebAssembly component: as large as any registry serves a blob.
pub const COMPONENT: SizeLimit = SizeLimit {
    what: "a component",
    max_bytes: crate::http::MAX_BLOB_BYTES,
};
/// A blob of a local registry or of the cache: a component.
pub const BLOB: SizeLimit = SizeLimit {
    what: "a registry blob",
    max_bytes: crate::http::MAX_BLOB_BYTES,
};
/// One package's index file, or a registry's `config.json` or package list;
/// the same bound as when served over HTTP.
pub const INDEX: SizeLimit = SizeLimit {
    what: "a registry index file",
    max_bytes: crate::http::MAX_INDEX_BYTES,
};
/// A cases file (JSON lines of test cases) or a file of labelled examples.
pub const CASES: SizeLimit = SizeLimit {
    what: "a cases file",
    max_bytes: 64 * MIB,
};
/// A file of labels for `crucible test`/`check`.
pub const LABELS: SizeLimit = SizeLimit {
    what: "a label file",
    max_bytes: 16 * MIB,
};
/// A credentials file: a token or two.
pub const CREDENTIALS: SizeLimit = SizeLimit {
    what: "a credentials file",
    max_bytes: 64 * 1024,
};
/// The user's own configuration, or a plugin project's manifest.
pub const CONFIG: SizeLimit = SizeLimit {
    what: "a configuration file",
    max_bytes: MIB,
};

/// Why a path was not read.
#[derive(Debug, thiserror::Error)]
pub enum InputFileError {
    #[error("is {kind}, not a regular file; give the path of a file")]
    NotRegular { kind: &'static str },
    #[error(
        "is {}, more than the {} {what} may be",
        human_bytes(*size),
        human_bytes(*max_bytes)
    )]
    TooLarge {
        size: u64,
        max_bytes: u64,
        what: &'static str,
    },
}

impl From<InputFileError> for io::Error {
    fn from(error: InputFileError) -> Self {
        let kind = match error {
            InputFileError::NotRegular { .. } => io::ErrorKind::InvalidInput,
            InputFileError::TooLarge { .. } => io::ErrorKind::FileTooLarge,
        };
        io::Error::new(kind, error)
    }
}

/// Opens `path` for reading if it is a regular file (after symlinks),
/// without blocking on a FIFO. For streamed reads (bundles), which bound
/// what they read themselves.
pub fn open(path: &Path) -> io::Result<File> {
    // `stat` first: a FIFO or a device is refused without being opened.
    regular(&std::fs::metadata(path)?)?;
    let mut options = OpenOptions::new();
    options.read(true);
    // The path may have been swapped for a FIFO since the `stat`; a
    // non-blocking open returns at once whatever it now is, and the
    // handle's own metadata decides.
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    regular(&file.metadata()?)?;
    Ok(file)
}

/// The whole of the regular file `path`, at most `limit.max_bytes` of it.
pub fn read(path: &Path, limit: SizeLimit) -> io::Result<Vec<u8>> {
    let file = open(path)?;
    let size = file.metadata()?.len();
    check_size(size, limit)?;
    // The file may grow after the `stat`: one byte past the limit is read
    // to tell, never more.
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit.max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)?;
    check_size(u64::try_from(bytes.len()).unwrap_or(u64::MAX), limit)?;
    Ok(bytes)
}

/// [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path, limit: SizeLimit) -> io::Result<String> {
    String::from_utf8(read(path, limit)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "is not UTF-8 text"))
}

fn regular(metadata: &Metadata) -> Result<(), InputFileError> {
    let file_type = metadata.file_type();
    if file_type.is_file() {
        return Ok(());
    }
    Err(InputFileError::NotRegular {
        kind: describe(&file_type),
    })
}

fn describe(file_type: &std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "not a file"
}

fn check_size(size: u64, limit: SizeLimit) -> Result<(), InputFileError> {
    if size > limit.max_bytes {
        return Err(InputFileError::TooLarge {
            size,
            max_bytes: limit.max_bytes,
            what: limit.what,
        });
    }
    Ok(())
}

/// `1536` -> "1.5 KiB"; exact byte counts below 1 KiB.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    // Shown to one decimal: the precision an `f64` loses does not show.
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let text = format!("{value:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("{text} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: SizeLimit = SizeLimit {
        what: "a test file",
        max_bytes: 8,
    };

    #[test]
    fn reads_a_regular_file_within_its_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345678").expect("write");
        assert_eq!(read(&path, TINY).expect("read"), b"12345678");
    }

    #[test]
    fn refuses_a_file_over_its_limit_naming_both_sizes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, vec![b'x'; 2048]).expect("write");
        let error = read(&path, TINY).expect_err("too large");
        assert_eq!(error.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(
            error.to_string(),
            "is 2 KiB, more than the 8 bytes a test file may be"
        );
    }

    #[test]
    fn refuses_a_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let error = read(dir.path(), TINY).expect_err("a directory");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(error.to_string().starts_with("is a directory"), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn refuses_dev_zero_without_reading_it() {
        let error = read(Path::new("/dev/zero"), TINY).expect_err("a device");
        assert_eq!(
            error.to_string(),
            "is a character device, not a regular file; give the path of a file"
        );
    }

    #[test]
    fn a_missing_file_stays_not_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let error = read(&dir.path().join("absent"), TINY).expect_err("missing");
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(1023), "1023 bytes");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(16 * MIB), "16 MiB");
    }
}
