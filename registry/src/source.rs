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
    /// becomes `file:` and the path relative to `base` (`file:registry`,
    /// `file:../shared-registry`), so a lockfile committed with its suite
    /// reads the same in every checkout, and a tree copied whole (suite and
    /// a registry beside it) stays locked. Only a path on another drive
    /// than `base` (Windows) keeps its absolute URL.
    pub fn relative_to(&self, base: &Path) -> Self {
        let base_url = file_url(base);
        let relative = |url: &str| relative_url(url, &base_url).unwrap_or_else(|| url.to_owned());
        match self {
            Source::Registry(url) => Source::Registry(relative(url)),
            Source::Path(url) => Source::Path(relative(url)),
        }
    }

    /// Whether two sources name the same place, a relative one read
    /// against `base`: an old lockfile's absolute pin and today's relative
    /// one of the same registry are the same pin.
    pub fn same_place(&self, other: &Source, base: &Path) -> bool {
        let base_url = file_url(base);
        match (self, other) {
            (Source::Registry(a), Source::Registry(b)) | (Source::Path(a), Source::Path(b)) => {
                absolute_url(a, &base_url) == absolute_url(b, &base_url)
            }
            _ => false,
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

/// `url`, a `file://` URL, as `file:` and a path relative to the
/// directory whose URL is `base_url`; None if they share no root (two
/// Windows drives) or `url` is not a `file://` URL.
fn relative_url(url: &str, base_url: &str) -> Option<String> {
    let target: Vec<&str> = url.strip_prefix("file://")?.split('/').collect();
    let base: Vec<&str> = base_url
        .strip_prefix("file://")?
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    // Both start with an empty segment (the leading `/`).
    let target: Vec<&str> = target.into_iter().filter(|s| !s.is_empty()).collect();
    let common = target.iter().zip(&base).take_while(|(a, b)| a == b).count();
    if drive(&target) != drive(&base) {
        return None;
    }
    let mut parts: Vec<&str> = vec![".."; base.len() - common];
    parts.extend(&target[common..]);
    let path = if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    };
    Some(format!("file:{path}"))
}

/// The Windows drive (`C:`) a path's segments start with, if any.
fn drive<'a>(segments: &[&'a str]) -> Option<&'a str> {
    segments.first().filter(|s| s.ends_with(':')).copied()
}

/// `url` as an absolute URL: a `file:` path relative to `base_url` joined
/// to it, `.` and `..` resolved; any other URL as it is.
fn absolute_url(url: &str, base_url: &str) -> String {
    let Some(rest) = url.strip_prefix("file:").filter(|r| !r.starts_with("//")) else {
        return url.to_owned();
    };
    let mut segments: Vec<&str> = base_url
        .strip_prefix("file://")
        .unwrap_or(base_url)
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    for part in rest.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            part => segments.push(part),
        }
    }
    format!("file:///{}", segments.join("/"))
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
    fn a_registry_beside_the_suite_is_pinned_relative() {
        let base = Path::new("/work/tree/suite");
        let relative = |path: &str| Source::local_registry(Path::new(path)).relative_to(base);
        assert_eq!(relative("/work/tree/suite/registry").url(), "file:registry");
        assert_eq!(
            relative("/work/tree/shared-registry").url(),
            "file:../shared-registry"
        );
        assert_eq!(
            relative("/srv/my registry").url(),
            "file:../../../srv/my%20registry"
        );
        assert_eq!(relative("/work/tree/suite").url(), "file:.");
        for url in ["file:../shared-registry", "file:.", "file:registry"] {
            let source: Source = format!("registry+{url}").parse().expect(url);
            assert_eq!(source.url(), url);
        }
        // On another Windows drive there is no relative path.
        assert_eq!(
            relative_url("file:///D:/reg", "file:///C:/suite").as_deref(),
            None
        );
    }

    #[test]
    fn an_absolute_pin_and_a_relative_one_of_one_place_are_the_same() {
        let base = Path::new("/work/tree/suite");
        let absolute = Source::local_registry(Path::new("/work/tree/shared-registry"));
        let relative = absolute.relative_to(base);
        assert_ne!(absolute, relative);
        assert!(absolute.same_place(&relative, base));
        assert!(relative.same_place(&absolute, base));
        let elsewhere = Source::local_registry(Path::new("/work/other"));
        assert!(!elsewhere.same_place(&relative, base));
        let https: Source = "registry+https://r.example/".parse().expect("valid");
        assert!(https.same_place(&https.clone(), base));
        assert!(!https.same_place(&relative, base));
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
