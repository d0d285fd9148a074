//! Typed errors of the engine: rule loading, database compilation, JSON parsing.

use thiserror::Error;

/// Everything that can go wrong while building a [`crate::Scanner`] or scanning JSON.
#[derive(Debug, Error)]
pub enum EngineError {
    #[error("rule file {source_name}: {message}")]
    RuleFile {
        source_name: String,
        message: String,
    },

    #[error("rule {id} ({source_name}): {message}")]
    Rule {
        id: String,
        source_name: String,
        message: String,
    },

    #[error("rule {id}: Hyperscan cannot compile its pattern: {message}; keep to the dialect in engine/rules/README.md")]
    HyperscanCompile { id: String, message: String },

    #[error("Hyperscan: {0}")]
    Hyperscan(String),

    #[error("the cached rule database does not match these rules (expected key {expected})")]
    StaleCache { expected: String },

    #[error("invalid JSON: {0}")]
    Json(String),

    #[error("JSON nested deeper than {max} levels")]
    TooDeep { max: usize },

    #[error("unknown rule id {} in the disabled list", shown_value(.0))]
    UnknownRuleId(String),

    /// A name in a policy or allowlist that no rule has: a typo there would silently do
    /// nothing. `rules list` prints the ids and kinds.
    #[error("{setting}: no rule has the {what} {} (`mcp-parapet rules list` shows them)", shown_value(.name))]
    UnknownName {
        setting: String,
        what: &'static str,
        name: String,
    },

    #[error("scanner setting: {0}")]
    Setting(String),
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// A value from a user's settings, quoted for a message when it is short and on one line (a
/// typo such as `"github.gph"`), else only its length: a secret pasted into the wrong field
/// must not be printed into a log.
pub fn shown_value(value: &str) -> String {
    if may_show_value(value) {
        format!("{value:?}")
    } else {
        format!(
            "(a value of {} characters, not shown)",
            value.chars().count()
        )
    }
}

/// Whether [`shown_value`] quotes `value`.
pub fn may_show_value(value: &str) -> bool {
    value.chars().count() <= 32 && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}
