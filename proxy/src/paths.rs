//! Where state lives (XDG dirs, never the working directory: clients often start servers with
//! cwd `/`), file names made safe from user-given server names, and private (0600) files.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

fn xdg(var: &str, fallback: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(fallback)))
        .map(|d| d.join("mcp-parapet"))
}

/// `$XDG_STATE_HOME/mcp-parapet` (default `~/.local/state/mcp-parapet`).
pub fn state_dir() -> Option<PathBuf> {
    xdg("XDG_STATE_HOME", ".local/state")
}

/// `$XDG_CACHE_HOME/mcp-parapet` (default `~/.cache/mcp-parapet`).
pub fn cache_dir() -> Option<PathBuf> {
    xdg("XDG_CACHE_HOME", ".cache")
}

/// A server name as a file name: ASCII letters, digits, `-`, `_` and `.` kept, everything else
/// (`/`, `..`, spaces, control characters) replaced by `_`; never empty, never starting with a
/// dot. A name that had to change (or is cut at 100 characters) gets a hash of itself, so two
/// names never share a file (`a b` and `a/b`, any two Cyrillic names of one length).
pub fn safe_file_stem(name: &str) -> String {
    let s = legacy_file_stem(name);
    if s == name {
        return s;
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(name.as_bytes());
    format!("{s}-{}", crate::audit::hex(&digest[..6]))
}

/// The stem of earlier versions, which two names could share: pin files named so are still
/// found (and renamed) when they belong to the server asking.
pub fn legacy_file_stem(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if s.is_empty() || s.starts_with('.') {
        s.insert(0, '_');
    }
    s
}

/// Creates `dir` (and parents) readable by the owner only.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    if !dir.exists() {
        std::fs::create_dir_all(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file and a rename; 0600 when `private`.
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        if private {
            private_dir(dir)?;
        } else {
            std::fs::create_dir_all(dir)?;
        }
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    if private {
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(tmp, path)
}

/// Opens `path` for appending, created 0600. It must be a regular file: a symbolic link is
/// not followed (the trail would go wherever it points) and a FIFO is refused, not waited on
/// (opening one for writing blocks until a reader comes).
pub fn open_append_private(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        private_dir(dir)?;
    }
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => std::io::Error::new(
                e.kind(),
                format!("{} is a symbolic link: not followed", path.display()),
            ),
            Some(libc::ENXIO) => std::io::Error::new(
                e.kind(),
                format!("{} is not a regular file (a FIFO?)", path.display()),
            ),
            _ => e,
        })?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trail_is_only_ever_a_regular_file() {
        let dir = std::env::temp_dir().join(format!("parapet-paths-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let elsewhere = dir.join("elsewhere.txt");
        std::fs::write(&elsewhere, "").unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.join("link.jsonl")).unwrap();
        let e = open_append_private(&dir.join("link.jsonl")).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        let fifo = dir.join("fifo.jsonl");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid C string for the path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = open_append_private(&fifo).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        assert!(open_append_private(&dir.join("audit.jsonl")).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn server_names_cannot_escape_the_directory() {
        let safe = |n: &str| {
            let s = safe_file_stem(n);
            assert!(
                !s.contains('/') && !s.starts_with('.') && !s.is_empty(),
                "{s}"
            );
            s
        };
        assert!(safe("../x").starts_with("_.._x-"));
        assert!(safe("a/b").starts_with("a_b-"));
        assert!(safe("").starts_with("_-"));
        assert!(safe(".hidden").starts_with("_.hidden-"));
        assert_eq!(safe("my-server_1.0"), "my-server_1.0");
        // Names that read alike as file names still get files of their own.
        assert_ne!(safe("a b"), safe("a/b"));
        assert_ne!(safe("файлы"), safe("ключи"));
        assert_ne!(safe(&"x".repeat(101)), safe(&"x".repeat(102)));
    }
}
