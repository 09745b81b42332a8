//! Who may write to a served registry: bearer tokens, each belonging to an
//! owner, and the owner of each namespace. They live in `DIR/auth/`,
//! outside the static layout, so that no route serves them and a mirror
//! never copies them:
//!
//! ```text
//! auth/tokens.json      {"format":1,"tokens":[{"owner","sha256","created","revoked"?}]}
//! auth/namespaces.json  {"format":1,"namespaces":{"NS":{"owner","since"}}}
//! auth/lock             held while either file is read, changed and rewritten
//! ```
//!
//! A token is 32 random bytes from the OS, in hex, shown once when it is
//! created; only its sha256 is stored. Revoking keeps the entry, marked, so
//! the server can say "revoked" rather than "unknown". A namespace belongs
//! to the owner who first published in it.
//!
//! Every write goes through a temporary file renamed over its target, so a
//! reader (the server checking a token) sees the old file or the new one.
//! On Unix the directory is 0700 and the files 0600. Read-modify-write
//! sequences hold an exclusive lock on `auth/lock` (`File::lock`, as the
//! registry's per-package locks), which serializes the server's threads
//! and the admin commands alike.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crucible_registry::Checksum;
use rand::TryRng;
use serde::{Deserialize, Serialize};

/// The directory, under the registry root.
pub const AUTH_DIR: &str = "auth";
const TOKENS: &str = "tokens.json";
const NAMESPACES: &str = "namespaces.json";
const LOCK: &str = "lock";

/// The format of both files this module writes.
const FORMAT: u32 = 1;

/// Bytes of randomness in a token.
const TOKEN_BYTES: usize = 32;

/// Longest owner name.
const MAX_OWNER_LEN: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{}: cannot {action}: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        source: io::Error,
    },
    #[error("{}: malformed: {message}", path.display())]
    Malformed { path: PathBuf, message: String },
    #[error(
        "{}: format {found} is newer than this crucible understands (up to {FORMAT}); upgrade crucible",
        path.display()
    )]
    UnsupportedFormat { path: PathBuf, found: u32 },
    #[error("invalid owner `{input}`: {reason}")]
    InvalidOwner { input: String, reason: String },
    #[error("owner `{owner}` has no token")]
    NoToken { owner: String },
    #[error("cannot read random bytes from the OS for a token: {0}")]
    Random(String),
}

/// What a presented token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenState {
    /// A live token of this owner.
    Valid(String),
    /// A token of this owner that was revoked.
    Revoked(String),
    /// Not a token of this registry.
    Unknown,
}

#[derive(Debug, Serialize, Deserialize)]
struct Tokens {
    format: u32,
    tokens: Vec<TokenEntry>,
}

impl Default for Tokens {
    fn default() -> Self {
        Self {
            format: FORMAT,
            tokens: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TokenEntry {
    owner: String,
    /// sha256 of the token's text.
    sha256: Checksum,
    created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revoked: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Namespaces {
    format: u32,
    namespaces: BTreeMap<String, NamespaceEntry>,
}

impl Default for Namespaces {
    fn default() -> Self {
        Self {
            format: FORMAT,
            namespaces: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct NamespaceEntry {
    owner: String,
    /// When the owner got it, RFC 3339.
    since: String,
}

/// Proof that the caller holds `auth/lock`; released when dropped.
pub struct AuthLock {
    _file: File,
}

/// The `auth/` directory of one registry.
#[derive(Debug, Clone)]
pub struct AuthStore {
    dir: PathBuf,
}

impl AuthStore {
    /// The store of the registry at `root`, creating `auth/` (0700) if need
    /// be.
    pub fn open(root: &Path) -> Result<Self, AuthError> {
        let dir = root.join(AUTH_DIR);
        if !dir.is_dir() {
            let mut builder = fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            builder
                .create(&dir)
                .map_err(io_error(&dir, "create the directory"))?;
        }
        Ok(Self { dir })
    }

    /// Blocks until this thread holds the store's lock.
    pub fn lock(&self) -> Result<AuthLock, AuthError> {
        let path = self.dir.join(LOCK);
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        // Each call opens its own handle, so threads of one process exclude
        // each other too (a `flock` lock belongs to an open file).
        let file = options
            .open(&path)
            .map_err(io_error(&path, "open the lock file"))?;
        file.lock().map_err(io_error(&path, "lock"))?;
        Ok(AuthLock { _file: file })
    }

    /// Makes a token for `owner`, stores its hash, and returns the token:
    /// the only time it is ever seen.
    pub fn create_token(&self, owner: &str) -> Result<String, AuthError> {
        check_owner(owner)?;
        let mut bytes = [0u8; TOKEN_BYTES];
        rand::rngs::SysRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| AuthError::Random(e.to_string()))?;
        let token = hex::encode(bytes);
        let _lock = self.lock()?;
        let mut tokens = self.read_tokens()?;
        tokens.tokens.push(TokenEntry {
            owner: owner.to_owned(),
            sha256: Checksum::of(token.as_bytes()),
            created: now(),
            revoked: None,
        });
        self.write(TOKENS, &tokens)?;
        Ok(token)
    }

    /// Revokes every live token of `owner`; returns how many there were.
    /// An owner who never had a token is an error (most likely a typo).
    pub fn revoke(&self, owner: &str) -> Result<usize, AuthError> {
        check_owner(owner)?;
        let _lock = self.lock()?;
        let mut tokens = self.read_tokens()?;
        if !tokens.tokens.iter().any(|t| t.owner == owner) {
            return Err(AuthError::NoToken {
                owner: owner.to_owned(),
            });
        }
        let when = now();
        let mut revoked = 0;
        for entry in tokens
            .tokens
            .iter_mut()
            .filter(|t| t.owner == owner && t.revoked.is_none())
        {
            entry.revoked = Some(when.clone());
            revoked += 1;
        }
        if revoked > 0 {
            self.write(TOKENS, &tokens)?;
        }
        Ok(revoked)
    }

    /// Whose token `token` is. Takes no lock: the file is only ever
    /// replaced whole.
    pub fn token_state(&self, token: &str) -> Result<TokenState, AuthError> {
        let sha256 = Checksum::of(token.as_bytes());
        let tokens = self.read_tokens()?;
        Ok(
            match tokens.tokens.into_iter().find(|t| t.sha256 == sha256) {
                Some(entry) if entry.revoked.is_some() => TokenState::Revoked(entry.owner),
                Some(entry) => TokenState::Valid(entry.owner),
                None => TokenState::Unknown,
            },
        )
    }

    /// The owner of `namespace`, if it has one.
    pub fn namespace_owner(&self, namespace: &str) -> Result<Option<String>, AuthError> {
        Ok(self
            .read_namespaces()?
            .namespaces
            .remove(namespace)
            .map(|entry| entry.owner))
    }

    /// Gives `namespace` to `owner`, whoever had it; returns the previous
    /// owner.
    pub fn set_namespace_owner(
        &self,
        _lock: &AuthLock,
        namespace: &str,
        owner: &str,
    ) -> Result<Option<String>, AuthError> {
        check_owner(owner)?;
        let mut namespaces = self.read_namespaces()?;
        let previous = namespaces.namespaces.insert(
            namespace.to_owned(),
            NamespaceEntry {
                owner: owner.to_owned(),
                since: now(),
            },
        );
        self.write(NAMESPACES, &namespaces)?;
        Ok(previous.map(|entry| entry.owner))
    }

    /// Takes back a claim made by a publish that then failed.
    pub fn remove_namespace(&self, _lock: &AuthLock, namespace: &str) -> Result<(), AuthError> {
        let mut namespaces = self.read_namespaces()?;
        if namespaces.namespaces.remove(namespace).is_some() {
            self.write(NAMESPACES, &namespaces)?;
        }
        Ok(())
    }

    fn read_tokens(&self) -> Result<Tokens, AuthError> {
        self.read(TOKENS)
    }

    fn read_namespaces(&self) -> Result<Namespaces, AuthError> {
        self.read(NAMESPACES)
    }

    /// A file of the store, or its empty default if it does not exist yet.
    fn read<T>(&self, file: &str) -> Result<T, AuthError>
    where
        T: Default + for<'de> Deserialize<'de>,
    {
        let path = self.dir.join(file);
        let text = match crucible_registry::input_file::read_to_string(
            &path,
            crucible_registry::input_file::CONFIG,
        ) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(T::default()),
            Err(e) => return Err(io_error(&path, "read")(e)),
        };
        // The format is checked first, so that a newer file is named as
        // such rather than as malformed.
        #[derive(Deserialize)]
        struct Header {
            format: u32,
        }
        let header: Header = serde_json::from_str(&text).map_err(|e| AuthError::Malformed {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if header.format > FORMAT {
            return Err(AuthError::UnsupportedFormat {
                path,
                found: header.format,
            });
        }
        serde_json::from_str(&text).map_err(|e| AuthError::Malformed {
            path,
            message: e.to_string(),
        })
    }

    /// Replaces a file of the store atomically, owner-only.
    fn write<T: Serialize>(&self, file: &str, value: &T) -> Result<(), AuthError> {
        let path = self.dir.join(file);
        let mut text = serde_json::to_string_pretty(value)
            .unwrap_or_else(|e| unreachable!("the auth files always serialize: {e}"));
        text.push('\n');
        write_private(&self.dir, &path, text.as_bytes()).map_err(io_error(&path, "write"))
    }
}

/// An owner is 1 to 64 of ASCII letters, digits, `-`, `_`, `.` and `@`,
/// so that it is one safe token in messages and logs.
pub fn check_owner(owner: &str) -> Result<(), AuthError> {
    let fail = |reason: &str| AuthError::InvalidOwner {
        input: owner.escape_default().to_string(),
        reason: reason.to_owned(),
    };
    if owner.is_empty() {
        return Err(fail("it is empty"));
    }
    if owner.len() > MAX_OWNER_LEN {
        return Err(fail("it is over 64 characters long"));
    }
    if !owner
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
    {
        return Err(fail(
            "only ASCII letters, digits, `-`, `_`, `.` and `@` are allowed",
        ));
    }
    Ok(())
}

/// `bytes` to `path` through a 0600 temporary file in `dir`, synced, then
/// renamed over `path`.
fn write_private(dir: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o600));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    Ok(())
}

fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

fn io_error(path: &Path, action: &'static str) -> impl FnOnce(io::Error) -> AuthError {
    let path = path.to_owned();
    move |source| AuthError::Io {
        path,
        action,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stored_hashed_and_can_be_revoked() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = AuthStore::open(dir.path()).expect("opens");
        let token = store.create_token("alice").expect("created");
        assert_eq!(token.len(), 64);
        let stored = fs::read_to_string(dir.path().join("auth/tokens.json")).expect("stored");
        assert!(!stored.contains(&token), "the token itself is never stored");
        assert!(stored.contains(Checksum::of(token.as_bytes()).as_str()));
        assert_eq!(
            store.token_state(&token).expect("reads"),
            TokenState::Valid("alice".into())
        );
        assert_eq!(
            store.token_state("nope").expect("reads"),
            TokenState::Unknown
        );
        assert_eq!(store.revoke("alice").expect("revoked"), 1);
        assert_eq!(
            store.token_state(&token).expect("reads"),
            TokenState::Revoked("alice".into())
        );
        assert!(matches!(
            store.revoke("bob"),
            Err(AuthError::NoToken { .. })
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &str| {
                fs::metadata(dir.path().join(p))
                    .expect("exists")
                    .permissions()
                    .mode()
                    & 0o777
            };
            assert_eq!(mode("auth"), 0o700);
            assert_eq!(mode("auth/tokens.json"), 0o600);
            assert_eq!(mode("auth/lock"), 0o600);
        }
    }

    #[test]
    fn namespaces_have_one_owner() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = AuthStore::open(dir.path()).expect("opens");
        assert_eq!(store.namespace_owner("ns").expect("reads"), None);
        let lock = store.lock().expect("locks");
        assert_eq!(
            store
                .set_namespace_owner(&lock, "ns", "alice")
                .expect("set"),
            None
        );
        assert_eq!(
            store.namespace_owner("ns").expect("reads").as_deref(),
            Some("alice")
        );
        store.remove_namespace(&lock, "ns").expect("removed");
        assert_eq!(store.namespace_owner("ns").expect("reads"), None);
    }

    #[test]
    fn owners_are_checked() {
        for bad in ["", "a b", "a/b", "a\nb", &"x".repeat(65)] {
            assert!(check_owner(bad).is_err(), "{bad:?}");
        }
        for good in ["alice", "Team-1", "a.b@example.org"] {
            assert!(check_owner(good).is_ok(), "{good:?}");
        }
    }
}
