//! The proxy's typed errors; the binary adds context and reports them.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ProxyError {
    #[error("config file {}: {message}", path.display())]
    Config { path: PathBuf, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("{0}")]
    Invalid(String),
    // The cause is part of the message, not a `source` too: the CLI prints an error with its
    // chain of sources, which printed it twice.
    #[error("{what}: {cause}")]
    Io { what: String, cause: std::io::Error },
    #[error(transparent)]
    Engine(#[from] parapet_engine::EngineError),
}

pub type Result<T> = std::result::Result<T, ProxyError>;
