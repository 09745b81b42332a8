//! Where a publisher's token comes from: `CRUCIBLE_REGISTRY_TOKEN`, else
//! the credentials file, `$XDG_CONFIG_HOME/crucible/credentials.toml` (or
//! `~/.config/crucible/credentials.toml`), a map of registry URL to token:
//!
//! ```toml
//! "https://registry.example" = "crt_..."
//! "http://127.0.0.1:8080" = "crt_..."
//! ```
//!
//! On Unix the file must not be readable or writable by anyone but its
//! owner (mode 0600, or stricter): one that is is refused, naming the file
//! and its mode, before it is read. A token is never printed: `Token` has no
//! `Display`, its `Debug` is redacted, and no error message quotes the
//! file's contents.

use std::fmt;
use std::path::{Path, PathBuf};

/// The environment variable that holds a token, for any registry.
pub const TOKEN_ENV: &str = "CRUCIBLE_REGISTRY_TOKEN";

/// A bearer token. Deliberately not `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for the `Authorization` header only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("{}: cannot read the credentials file: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{}: the credentials file has mode {mode:04o}, so other users can read or change it; it must be mode 0600 (chmod 600 {})",
        path.display(), path.display()
    )]
    Insecure { path: PathBuf, mode: u32 },
    #[error("{}: {message}", path.display())]
    Malformed { path: PathBuf, message: String },
}

/// `$XDG_CONFIG_HOME/crucible/credentials.toml`, else
/// `~/.config/crucible/credentials.toml`.
pub fn credentials_path() -> Option<PathBuf> {
    let config = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(dir) if !dir.is_empty() && Path::new(&dir).is_absolute() => PathBuf::from(dir),
        _ => dirs::home_dir()?.join(".config"),
    };
    Some(config.join("crucible").join("credentials.toml"))
}

/// The token for the registry at `url`: `CRUCIBLE_REGISTRY_TOKEN` if set
/// and not empty, else the credentials file's entry for `url`, else none.
pub fn token_for(url: &str) -> Result<Option<Token>, CredentialsError> {
    let env = std::env::var(TOKEN_ENV).ok();
    token_from(env, credentials_path().as_deref(), url)
}

/// `token_for` with its inputs given: the environment variable's value and
/// the credentials file's path.
pub fn token_from(
    env: Option<String>,
    file: Option<&Path>,
    url: &str,
) -> Result<Option<Token>, CredentialsError> {
    if let Some(secret) = env.filter(|s| !s.trim().is_empty()) {
        return Ok(Some(Token::new(secret.trim())));
    }
    match file {
        Some(path) => token_from_file(path, url),
        None => Ok(None),
    }
}

/// The entry for `url` in the credentials file at `path`, if the file
/// exists. URLs match with or without a trailing `/`.
pub fn token_from_file(path: &Path, url: &str) -> Result<Option<Token>, CredentialsError> {
    let io = |source| CredentialsError::Io {
        path: path.to_owned(),
        source,
    };
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    check_mode(path, &metadata)?;
    let text =
        crate::input_file::read_to_string(path, crate::input_file::CREDENTIALS).map_err(io)?;
    let malformed = |message: String| CredentialsError::Malformed {
        path: path.to_owned(),
        message,
    };
    // Only the position of a syntax error is shown: the parser's own
    // message quotes the offending line, which may hold a token.
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let (line, column) = e.span().map_or((1, 1), |span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            (line, column)
        });
        malformed(format!(
            "line {line}, column {column}: not valid TOML; expected lines of the form \"URL\" = \"TOKEN\""
        ))
    })?;
    let wanted = normalize(url);
    for (key, value) in &table {
        if normalize(key) != wanted {
            continue;
        }
        return match value {
            toml::Value::String(secret) if !secret.trim().is_empty() => {
                Ok(Some(Token::new(secret.trim())))
            }
            _ => Err(malformed(format!(
                "the entry for `{}` is not a token (a non-empty string)",
                key.escape_default()
            ))),
        };
    }
    Ok(None)
}

fn normalize(url: &str) -> &str {
    url.trim().trim_end_matches('/')
}

#[cfg(unix)]
fn check_mode(path: &Path, metadata: &std::fs::Metadata) -> Result<(), CredentialsError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(CredentialsError::Insecure {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

/// Windows has no mode bits; the file lives in the user's profile.
#[cfg(not(unix))]
fn check_mode(_path: &Path, _metadata: &std::fs::Metadata) -> Result<(), CredentialsError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(text: &str, mode: u32) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("credentials.toml");
        std::fs::write(&path, text).expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        }
        #[cfg(not(unix))]
        let _ = mode;
        (dir, path)
    }

    #[test]
    fn the_environment_wins_then_the_file_by_url() {
        let (_dir, path) = file_with(
            "\"http://127.0.0.1:8080/\" = \"from-file\"\n\"https://other.example\" = \"x\"\n",
            0o600,
        );
        let url = "http://127.0.0.1:8080";
        let token = token_from(Some("from-env".into()), Some(&path), url).expect("read");
        assert_eq!(token, Some(Token::new("from-env")));
        let token = token_from(Some(String::new()), Some(&path), url).expect("read");
        assert_eq!(token, Some(Token::new("from-file")));
        let token = token_from(None, Some(&path), "http://127.0.0.1:8080/").expect("read");
        assert_eq!(token, Some(Token::new("from-file")));
        assert_eq!(
            token_from(None, Some(&path), "https://third.example").expect("read"),
            None
        );
        let missing = path.with_file_name("none.toml");
        assert_eq!(token_from(None, Some(&missing), url).expect("read"), None);
        assert_eq!(format!("{:?}", Token::new("s3cret")), "Token(<redacted>)");
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_can_read_is_refused_naming_it_and_its_mode() {
        let (_dir, path) = file_with("\"http://x\" = \"s3cret-token\"\n", 0o644);
        let err = token_from(None, Some(&path), "http://x").expect_err("refused");
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("mode 0644"), "{message}");
        assert!(message.contains("must be mode 0600"), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
        // The environment does not need the file at all.
        let token = token_from(Some("env".into()), Some(&path), "http://x").expect("env");
        assert_eq!(token, Some(Token::new("env")));
        let (_dir, strict) = file_with("\"http://x\" = \"t\"\n", 0o400);
        assert_eq!(
            token_from(None, Some(&strict), "http://x").expect("0400 is fine"),
            Some(Token::new("t"))
        );
    }

    #[test]
    fn malformed_files_are_refused_without_quoting_them() {
        let (_dir, path) = file_with("\"http://x\" = s3cret-token\n", 0o600);
        let err = token_from(None, Some(&path), "http://x").expect_err("not TOML");
        let message = err.to_string();
        assert!(message.contains("line 1"), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
        let (_dir, path) = file_with("\"http://x\" = 5\n", 0o600);
        let err = token_from(None, Some(&path), "http://x").expect_err("not a string");
        assert!(err.to_string().contains("not a token"), "{err}");
    }
}
