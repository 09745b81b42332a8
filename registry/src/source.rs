//! Where a plugin came from, as a lockfile records it: `registry+URL` for a
//! registry (local `file://` or, later, `https://`), `path+URL` for a
//! component taken straight from disk. The prefix says how to fetch it
//! again; the URL says from where.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Registry(String),
    Path(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid source `{input}`: expected `registry+URL` or `path+URL`")]
pub struct SourceError {
    pub input: String,
}

impl Source {
    /// The source of a registry in the local directory `root`.
    pub fn local_registry(root: &Path) -> Self {
        Source::Registry(file_url(root))
    }

    /// The source of a component file at `path`.
    pub fn path(path: &Path) -> Self {
        Source::Path(file_url(path))
    }

    /// This source as a lockfile beside `base` records it: a `file://` URL
    /// of a path inside `base` becomes `file:` and the path relative to
    /// `base`, so a lockfile committed with its suite reads the same in
    /// every checkout.
    pub fn relative_to(&self, base: &Path) -> Self {
        let base_url = file_url(base);
        let relative = |url: &str| match url.strip_prefix(base_url.as_str()) {
            Some(rest) if rest.starts_with('/') => format!("file:{}", &rest[1..]),
            _ => url.to_owned(),
        };
        match self {
            Source::Registry(url) => Source::Registry(relative(url)),
            Source::Path(url) => Source::Path(relative(url)),
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Source::Registry(url) | Source::Path(url) => url,
        }
    }
}

/// `path` made absolute against the working directory, with `.` and `..`
/// resolved by name: one file has one URL however a suite names it.
fn normalized(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut out = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A `file://` URL for a path, made absolute first. Bytes outside the URL-safe set are
/// percent-encoded, so a path with spaces or `#` stays one unambiguous
/// token.
fn file_url(path: &Path) -> String {
    let path = normalized(path);
    let text = path.to_string_lossy();
    // Windows paths (`C:\x`) become `/C:/x`, as in `file:///C:/x`.
    let text = text.replace('\\', "/");
    let mut url = String::from("file://");
    if !text.starts_with('/') {
        url.push('/');
    }
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/:".contains(&byte) {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

impl FromStr for Source {
    type Err = SourceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // A URL, or `file:` and a path relative to the lockfile.
        let valid_url = |url: &str| {
            (url.split_once("://")
                .is_some_and(|(scheme, _)| !scheme.is_empty())
                || url
                    .strip_prefix("file:")
                    .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/')))
                && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        };
        if let Some(url) = s.strip_prefix("registry+")
            && valid_url(url)
        {
            return Ok(Source::Registry(url.to_owned()));
        }
        if let Some(url) = s.strip_prefix("path+")
            && valid_url(url)
        {
            return Ok(Source::Path(url.to_owned()));
        }
        Err(SourceError {
            input: s.escape_default().to_string(),
        })
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Registry(url) => write!(f, "registry+{url}"),
            Source::Path(url) => write!(f, "path+{url}"),
        }
    }
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_encodes_paths() {
        let source = Source::local_registry(Path::new("/srv/my registry#1"));
        assert_eq!(source.to_string(), "registry+file:///srv/my%20registry%231");
        assert_eq!(source.to_string().parse::<Source>(), Ok(source));
        let https: Source = "registry+https://registry.example/".parse().expect("valid");
        assert_eq!(https.url(), "https://registry.example/");
        assert!(matches!(
            "path+file:///x.wasm".parse::<Source>(),
            Ok(Source::Path(_))
        ));
    }

    #[test]
    fn one_file_has_one_url_however_it_is_named() {
        let cwd = std::env::current_dir().expect("a working directory");
        let plain = Source::path(&cwd.join("plugins/x.wasm"));
        assert_eq!(Source::path(Path::new("plugins/x.wasm")), plain);
        assert_eq!(Source::path(Path::new("suite/../plugins/./x.wasm")), plain);
        assert_eq!(Source::path(&cwd.join("a/b/../../plugins/x.wasm")), plain);
        assert_eq!(
            Source::path(Path::new("suite/../plugins/x.wasm")).relative_to(&cwd),
            Source::Path("file:plugins/x.wasm".into())
        );
    }

    #[test]
    fn refuses_other_forms() {
        for bad in [
            "",
            "file:///x",
            "git+https://x",
            "registry+",
            "registry+nourl",
            "path+a b://c",
        ] {
            let err = bad.parse::<Source>().expect_err(bad);
            assert!(err.to_string().contains("registry+URL"), "{err}");
        }
    }
}
