//! Where a registry is, as a user writes it (`--registry`, a suite's
//! `registry = "..."`): a directory, or an `http(s)://` URL. And a
//! registry of either kind behind one type.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::backend::{Registry, RegistryError};
use crate::cache::RegistryCache;
use crate::catalog::ListPackages;
use crate::checksum::Checksum;
use crate::http::{HttpRegistry, is_http_url, parse_registry_url};
use crate::local::LocalRegistry;
use crate::name::PackageName;
use crate::record::Record;
use crate::source::Source;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryLocation {
    /// A registry directory (a `file://` URL is taken as its path).
    Dir(PathBuf),
    /// An `http://` or `https://` URL, as given.
    Url(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("registry `{input}`: {message}")]
pub struct LocationError {
    pub input: String,
    pub message: String,
}

impl RegistryLocation {
    /// A URL if `text` is `http(s)://...` (checked here), a `file://` URL's
    /// path, any other `scheme://` refused, else a directory path.
    pub fn parse(text: &str) -> Result<Self, LocationError> {
        let fail = |message: String| LocationError {
            input: text.escape_default().to_string(),
            message,
        };
        if text.trim().is_empty() {
            return Err(fail("empty; give a directory or an http(s):// URL".into()));
        }
        if is_http_url(text) {
            parse_registry_url(text).map_err(fail)?;
            return Ok(Self::Url(text.trim().to_owned()));
        }
        if let Some((scheme, _)) = text.split_once("://")
            && !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            if scheme.eq_ignore_ascii_case("file") {
                let url = reqwest::Url::parse(text).map_err(|e| fail(e.to_string()))?;
                let path = url
                    .to_file_path()
                    .map_err(|()| fail("not a local file URL".into()))?;
                return Ok(Self::Dir(path));
            }
            return Err(fail(format!(
                "the scheme `{scheme}` is not supported; give a directory or an http(s):// URL"
            )));
        }
        Ok(Self::Dir(PathBuf::from(text)))
    }

    /// A relative directory taken relative to `base` (a URL is unchanged).
    pub fn relative_to(self, base: &Path) -> Self {
        match self {
            Self::Dir(path) if path.is_relative() => Self::Dir(base.join(path)),
            other => other,
        }
    }

    pub fn is_url(&self) -> bool {
        matches!(self, Self::Url(_))
    }
}

impl fmt::Display for RegistryLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dir(path) => write!(f, "{}", path.display()),
            Self::Url(url) => f.write_str(url),
        }
    }
}

/// A registry directory or an HTTP registry.
#[derive(Debug)]
pub enum AnyRegistry {
    Local(LocalRegistry),
    Http(HttpRegistry),
}

impl AnyRegistry {
    /// Opens the registry at `location`. An HTTP registry keeps what it
    /// fetches in `cache` and, `offline`, reads only from it; a directory is
    /// local, so `offline` changes nothing for it.
    pub fn open(
        location: &RegistryLocation,
        cache: Option<RegistryCache>,
        offline: bool,
    ) -> Result<Self, RegistryError> {
        match location {
            RegistryLocation::Dir(path) => Ok(Self::Local(LocalRegistry::open(path)?)),
            RegistryLocation::Url(url) => {
                let mut registry = HttpRegistry::new(url)?.offline(offline);
                if let Some(cache) = cache {
                    registry = registry.with_cache(cache);
                }
                Ok(Self::Http(registry))
            }
        }
    }

    /// `open` with the default cache (`$CRUCIBLE_CACHE/registry`, else the
    /// user's cache directory).
    pub fn open_default(location: &RegistryLocation, offline: bool) -> Result<Self, RegistryError> {
        Self::open(location, RegistryCache::at_default(), offline)
    }

    fn inner(&self) -> &dyn ListPackages {
        match self {
            Self::Local(r) => r,
            Self::Http(r) => r,
        }
    }
}

impl Registry for AnyRegistry {
    fn source(&self) -> Source {
        self.inner().source()
    }

    fn versions(&self, name: &PackageName) -> Result<Vec<Record>, RegistryError> {
        self.inner().versions(name)
    }

    fn record(
        &self,
        name: &PackageName,
        version: &semver::Version,
    ) -> Result<Record, RegistryError> {
        self.inner().record(name, version)
    }

    fn blob(&self, sha256: &Checksum) -> Result<Vec<u8>, RegistryError> {
        self.inner().blob(sha256)
    }

    fn search(&self, text: &str) -> Result<Vec<Record>, RegistryError> {
        self.inner().search(text)
    }
}

impl ListPackages for AnyRegistry {
    fn package_names(&self) -> Result<Vec<PackageName>, RegistryError> {
        self.inner().package_names()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_urls_and_refusals() {
        assert_eq!(
            RegistryLocation::parse("reg").expect("dir"),
            RegistryLocation::Dir("reg".into())
        );
        assert_eq!(
            RegistryLocation::parse("https://r.example/x").expect("url"),
            RegistryLocation::Url("https://r.example/x".into())
        );
        assert_eq!(
            RegistryLocation::parse("file:///srv/my%20reg").expect("file"),
            RegistryLocation::Dir("/srv/my reg".into())
        );
        let err = RegistryLocation::parse("s3://bucket").expect_err("scheme");
        assert!(err.to_string().contains("scheme `s3`"), "{err}");
        let err = RegistryLocation::parse("https://u:p@r.example").expect_err("creds");
        assert!(err.to_string().contains("credentials"), "{err}");
        let rel = RegistryLocation::parse("reg")
            .expect("dir")
            .relative_to(Path::new("/suites"));
        assert_eq!(rel, RegistryLocation::Dir("/suites/reg".into()));
        let url = RegistryLocation::parse("http://h/")
            .expect("url")
            .relative_to(Path::new("/suites"));
        assert!(url.is_url());
    }
}
