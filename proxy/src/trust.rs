//! Trust tiers made real: every tool gets a class (read < write < destructive < admin) from its
//! annotations and from the verbs in its name and description; each tier allows classes up to
//! its own; allow/block globs and per-tool overrides sit on top.

use std::collections::HashMap;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde_json::Value;

use crate::config::{ServerSection, ToolClass, TrustLevel};

/// The most dangerous class a tier allows; `None` for the `none` tier.
pub fn ceiling(level: TrustLevel) -> Option<ToolClass> {
    match level {
        TrustLevel::None => None,
        TrustLevel::Basic => Some(ToolClass::Read),
        TrustLevel::Verified => Some(ToolClass::Write),
        TrustLevel::Trusted => Some(ToolClass::Destructive),
        TrustLevel::Privileged => Some(ToolClass::Admin),
    }
}

pub fn level_name(level: TrustLevel) -> &'static str {
    match level {
        TrustLevel::None => "none",
        TrustLevel::Basic => "basic",
        TrustLevel::Verified => "verified",
        TrustLevel::Trusted => "trusted",
        TrustLevel::Privileged => "privileged",
    }
}

pub fn class_name(class: ToolClass) -> &'static str {
    match class {
        ToolClass::Read => "read",
        ToolClass::Write => "write",
        ToolClass::Destructive => "destructive",
        ToolClass::Admin => "admin",
    }
}

const READ: &[&str] = &[
    "get", "list", "read", "search", "find", "fetch", "query", "show", "view", "describe",
    "lookup", "inspect", "count", "stat", "info", "check", "browse", "echo", "ping", "status",
    "tree",
];
const WRITE: &[&str] = &[
    "create", "update", "write", "send", "post", "put", "add", "set", "edit", "insert", "upload",
    "save", "append", "rename", "move", "copy", "patch", "publish", "submit", "comment", "modify",
    "make", "new", "change", "mkdir", "replace", "purchase", "buy",
];
const DESTRUCTIVE: &[&str] = &[
    "delete",
    "remove",
    "drop",
    "overwrite",
    "kill",
    "destroy",
    "truncate",
    "purge",
    "wipe",
    "erase",
    "terminate",
    "revoke",
    "reset",
    "rm",
    "rmrf",
    "unlink",
    "format",
    "clear",
];
const ADMIN: &[&str] = &[
    "exec",
    "execute",
    "shell",
    "run",
    "command",
    "sudo",
    "install",
    "eval",
    "spawn",
    "bash",
    "sh",
    "powershell",
    "cmd",
    "admin",
    "chmod",
    "chown",
    "deploy",
    "script",
];

/// Fullwidth ASCII (`ｄｅｌｅｔｅ`) read as ASCII, so it cannot hide a verb.
fn fold_fullwidth(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Words of an identifier or sentence, lower case: `run_command`, `deleteFile`, `git-push`,
/// `XMLDelete` (an upper-case run ends before its last letter when lower case follows),
/// `kill9` (letters and digits part).
fn words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().map(fold_fullwidth).collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let boundary = prev.is_some_and(|p| {
            (p.is_ascii_lowercase() && c.is_ascii_uppercase())
                || (p.is_ascii_uppercase()
                    && c.is_ascii_uppercase()
                    && next.is_some_and(|n| n.is_ascii_lowercase()))
                || (p.is_ascii_alphabetic() != c.is_ascii_alphabetic() && p.is_ascii_alphanumeric())
        });
        if boundary && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Destructive and admin verbs (of the lists above) long enough to be read at the start of a
/// word written run together (`deletefile`, `DELETEFILE`, `killall`, `execsql`).
const RUN_TOGETHER: &[&str] = &[
    "delete",
    "remove",
    "destroy",
    "overwrite",
    "truncate",
    "purge",
    "wipe",
    "erase",
    "kill",
    "terminate",
    "unlink",
    "exec",
    "sudo",
    "shell",
    "install",
    "spawn",
    "eval",
];

/// A word without a plural or third-person `s` (`runs` → `run`; `is` stays).
fn stem(w: &str) -> &str {
    w.strip_suffix('s').filter(|s| s.len() > 2).unwrap_or(w)
}

fn class_of_word(w: &str) -> Option<ToolClass> {
    let stem = stem(w);
    for (list, class) in [
        (ADMIN, ToolClass::Admin),
        (DESTRUCTIVE, ToolClass::Destructive),
        (WRITE, ToolClass::Write),
        (READ, ToolClass::Read),
    ] {
        if list.contains(&w) || list.contains(&stem) {
            return Some(class);
        }
    }
    None
}

/// The class a word of a tool's name suggests: its own, else that of a destructive or admin
/// verb it starts with (a name written run together).
fn class_of_name_word(w: &str) -> Option<ToolClass> {
    class_of_word(w).or_else(|| {
        RUN_TOGETHER
            .iter()
            .filter(|verb| {
                w.len() > verb.len()
                    && w.starts_with(*verb)
                    && !INFLECTIONS.contains(&&w[verb.len()..])
            })
            .filter_map(|verb| class_of_word(verb))
            .max()
    })
}

/// What follows a verb in a word that is the verb's own form or a noun made from it, not a
/// verb and its object run together: `deleted`, `installer`, `executions`, `evaluation`,
/// `shellcheck` (a linter).
const INFLECTIONS: &[&str] = &[
    "d", "ed", "s", "es", "r", "er", "ers", "ing", "ings", "ion", "ions", "ation", "ations",
    "able", "ment", "ments", "or", "ors", "ive", "ution", "utions", "utor", "utors", "uation",
    "uations", "uate", "check", "al", "als",
];

/// Words that join two actions in a tool's name (`search_and_replace`, `find_then_book`).
const CONJUNCTIONS: &[&str] = &["and", "then", "or", "plus"];

/// Whether a part of the name after a conjunction names no verb this module knows: the name
/// then says the tool does something more than what the known verbs say.
fn joins_an_unknown_action(name_words: &[String]) -> bool {
    name_words
        .split(|w| CONJUNCTIONS.contains(&w.as_str()))
        .skip(1)
        .any(|part| part.iter().all(|w| class_of_name_word(w).is_none()))
}

/// The class the name and the description's first words suggest: the most dangerous verb found.
/// A name that joins a verb this module does not know to a read (`search_and_replace`,
/// `search_flights_and_book`) is no read: it gives no signal, and counts as write unless its
/// annotations say otherwise.
pub fn class_from_verbs(name: &str, description: &str) -> Option<ToolClass> {
    // A sentence ends at a full stop before a space or the end (`v1.2` goes on).
    let first_sentence = description
        .split(". ")
        .next()
        .unwrap_or("")
        .split('\n')
        .next()
        .unwrap_or("");
    // The first three words (a version number or a one-letter word is not one).
    let desc_words: Vec<String> = words(first_sentence)
        .into_iter()
        .filter(|w| w.len() > 1 && w.bytes().any(|b| b.is_ascii_alphabetic()))
        .take(3)
        .collect();
    // Read as drawn: an invisible character or a look-alike letter (`de\u{200b}lete_file`,
    // `dеlete_repo` with a Cyrillic `е`) must not hide the verb.
    let name_words = words(&parapet_engine::name_as_drawn(name));
    // `list_workflow_runs`, `get_deploy_status`: after a leading read verb these words are
    // nouns, not what the tool does.
    let reads_first = name_words
        .first()
        .is_some_and(|w| class_of_word(w) == Some(ToolClass::Read));
    // `Run a find query`, `Execute a search`, `Run a read-only SQL query`: a verb that only
    // says "do" takes the class of the read it is told to do (`Run shell commands` stays
    // admin: its object is not a read).
    let desc_classes = desc_words.iter().enumerate().filter_map(|(i, w)| {
        let does_a_read = DO_VERBS.contains(&w.as_str())
            && desc_words
                .get(i + 1)
                .is_some_and(|next| class_of_word(next) == Some(ToolClass::Read));
        if does_a_read {
            None
        } else {
            class_of_word(w)
        }
    });
    // After a conjunction a new action starts: its words are verbs again
    // (`get_and_update_issue`, `fetch_and_run`).
    let first_conjunction = name_words
        .iter()
        .position(|w| CONJUNCTIONS.contains(&w.as_str()))
        .unwrap_or(name_words.len());
    let class = name_words
        .iter()
        .enumerate()
        .filter(|&(i, w)| !(reads_first && i > 0 && i < first_conjunction && is_also_a_noun(w)))
        .filter_map(|(_, w)| class_of_name_word(w))
        .chain(desc_classes)
        .max();
    if class == Some(ToolClass::Read) && joins_an_unknown_action(&name_words) {
        return None;
    }
    class
}

/// Verbs that say only "do" what their object says.
const DO_VERBS: &[&str] = &["run", "runs", "execute", "executes", "perform", "performs"];

/// Verbs of the lists that name things as often as they name actions.
fn is_also_a_noun(w: &str) -> bool {
    const NOUNS: &[&str] = &[
        "run", "command", "script", "format", "new", "post", "status", "update", "deploy", "reset",
        "clear", "comment", "change", "admin",
    ];
    NOUNS.contains(&w) || NOUNS.contains(&stem(w))
}

/// The class MCP annotations claim. `readOnlyHint: false` claims at least write (MCP's own
/// default for a tool that is not read-only is destructive; here the verbs may raise it, so a
/// server that marks its `create_issue` as not read-only is not refused at the default tier).
pub fn class_from_annotations(annotations: Option<&Value>) -> Option<ToolClass> {
    let a = annotations?;
    let read_only = a.get("readOnlyHint").and_then(Value::as_bool);
    if read_only == Some(true) {
        return Some(ToolClass::Read);
    }
    match a.get("destructiveHint").and_then(Value::as_bool) {
        Some(true) => Some(ToolClass::Destructive),
        Some(false) => Some(ToolClass::Write),
        None if read_only == Some(false) => Some(ToolClass::Write),
        None => None,
    }
}

/// Why a call is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    TierNone,
    Blocked(String),
    NotAllowed,
    Class {
        class: ToolClass,
        ceiling: ToolClass,
    },
}

impl Denial {
    pub fn reason(&self) -> String {
        match self {
            Denial::TierNone => "trust level none allows no calls".into(),
            Denial::Blocked(glob) => format!("tool matches blocked_tools pattern {glob:?}"),
            Denial::NotAllowed => "tool is not in allowed_tools".into(),
            Denial::Class { class, ceiling } => format!(
                "tool class {} is above what this trust level allows ({})",
                class_name(*class),
                class_name(*ceiling)
            ),
        }
    }
}

/// A tool-name pattern: case-insensitive, as verbs are read (`*delete*` also holds back
/// `DeleteRepo` and `batchDelete`).
pub fn glob(pattern: &str) -> Result<Glob, globset::Error> {
    globset::GlobBuilder::new(pattern)
        .case_insensitive(true)
        .build()
}

/// One server's trust settings and what it has told us about its tools.
pub struct Trust {
    level: TrustLevel,
    allowed: Option<GlobSet>,
    blocked: Vec<(String, globset::GlobMatcher)>,
    overrides: HashMap<String, ToolClass>,
    known: HashMap<String, ToolClass>,
}

impl Trust {
    /// Globs were checked when the config loaded; a bad one here is skipped.
    pub fn new(server: &ServerSection) -> Self {
        let allowed = (!server.allowed_tools.is_empty()).then(|| {
            let mut b = GlobSetBuilder::new();
            for g in server.allowed_tools.iter().filter_map(|g| glob(g).ok()) {
                b.add(g);
            }
            b.build().unwrap_or_else(|_| GlobSet::empty())
        });
        let blocked = server
            .blocked_tools
            .iter()
            .filter_map(|g| Some((g.clone(), glob(g).ok()?.compile_matcher())))
            .collect();
        let overrides = server
            .tools
            .iter()
            .filter_map(|(name, t)| Some((name.clone(), t.class?)))
            .collect();
        Trust {
            level: server.trust_level,
            allowed,
            blocked,
            overrides,
            known: HashMap::new(),
        }
    }

    pub fn level(&self) -> TrustLevel {
        self.level
    }

    /// Records a tool from `tools/list` and returns its class, where that came from, and
    /// whether that class is news (first listing, or changed).
    pub fn learn(&mut self, tool: &Value) -> Option<(String, ToolClass, &'static str, bool)> {
        let name = tool.get("name")?.as_str()?.to_string();
        let desc = tool
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        let (class, why) = self.classify(&name, desc, tool.get("annotations"));
        let new = self.known.insert(name.clone(), class) != Some(class);
        Some((name, class, why, new))
    }

    fn classify(&self, name: &str, desc: &str, ann: Option<&Value>) -> (ToolClass, &'static str) {
        if let Some(&c) = self.overrides.get(name) {
            return (c, "config");
        }
        let hinted = class_from_annotations(ann);
        let verbs = class_from_verbs(name, desc);
        match (hinted, verbs) {
            // Annotations cannot say admin: admin verbs stand whatever they claim.
            (Some(_), Some(ToolClass::Admin)) => (ToolClass::Admin, "verbs (admin)"),
            (Some(h), _) if self.level >= TrustLevel::Trusted => (h, "annotations"),
            (Some(h), Some(v)) if v > h => (v, "verbs (above the annotations)"),
            (Some(h), _) => (h, "annotations"),
            (None, Some(v)) => (v, "verbs"),
            (None, None) => (ToolClass::Write, "no signal (counts as write)"),
        }
    }

    /// Whether `tool` may be called. Tools never listed are classified by name alone.
    pub fn check_tool(&self, tool: &str) -> Result<ToolClass, Denial> {
        let class = self
            .known
            .get(tool)
            .copied()
            .unwrap_or_else(|| self.classify(tool, "", None).0);
        // Blocked as written or as drawn (a look-alike of a blocked name is blocked); allowed
        // only as written.
        let drawn = parapet_engine::name_as_drawn(tool);
        if let Some((glob, _)) = self
            .blocked
            .iter()
            .find(|(_, m)| m.is_match(tool) || m.is_match(&drawn))
        {
            return Err(Denial::Blocked(glob.clone()));
        }
        if self.allowed.as_ref().is_some_and(|a| !a.is_match(tool)) {
            return Err(Denial::NotAllowed);
        }
        self.check_class(class)?;
        Ok(class)
    }

    /// Whether the tier allows an operation of `class` (resources and prompts are reads).
    pub fn check_class(&self, class: ToolClass) -> Result<(), Denial> {
        match ceiling(self.level) {
            None => Err(Denial::TierNone),
            Some(c) if class > c => Err(Denial::Class { class, ceiling: c }),
            Some(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn trust(level: TrustLevel) -> Trust {
        Trust::new(&ServerSection {
            trust_level: level,
            ..ServerSection::default()
        })
    }

    #[test]
    fn verbs_in_names_and_descriptions() {
        assert_eq!(class_from_verbs("read_file", ""), Some(ToolClass::Read));
        assert_eq!(
            class_from_verbs("deleteFile", ""),
            Some(ToolClass::Destructive)
        );
        assert_eq!(class_from_verbs("run_command", ""), Some(ToolClass::Admin));
        assert_eq!(class_from_verbs("create_issue", ""), Some(ToolClass::Write));
        assert_eq!(
            class_from_verbs("frobnicate", "Removes all rows"),
            Some(ToolClass::Destructive)
        );
        assert_eq!(class_from_verbs("frobnicate", "Does things"), None);
    }

    #[test]
    fn names_written_every_way_still_say_what_they_do() {
        for name in [
            "S3DeleteObject",
            "XMLDelete",
            "HTTPDelete",
            "IDelete",
            "DELETEFILE",
            "deletefile",
            "delete2",
            "kill9",
            "rmrf",
            "ｄｅｌｅｔｅ_file",
            "Delete-File",
            "file.delete",
        ] {
            assert!(
                class_from_verbs(name, "") >= Some(ToolClass::Destructive),
                "{name}"
            );
        }
        assert_eq!(class_from_verbs("SQLExec", ""), Some(ToolClass::Admin));
        for verb in RUN_TOGETHER {
            assert!(
                class_of_word(verb) >= Some(ToolClass::Destructive),
                "{verb}"
            );
        }
        assert_eq!(
            class_from_verbs("frobnicate", "v1.2: deletes all files"),
            Some(ToolClass::Destructive)
        );
        // Forms of a verb and nouns made from it are not a verb run together with its object.
        for name in [
            "list_installed_packages",
            "get_deleted_messages",
            "list_executions",
            "get_evaluation",
            "shellcheck_file",
        ] {
            assert!(
                class_from_verbs(name, "") <= Some(ToolClass::Read),
                "{name}: {:?}",
                class_from_verbs(name, "")
            );
        }
        assert_eq!(
            class_from_verbs("killall", ""),
            Some(ToolClass::Destructive)
        );
        // After a leading read verb, words that are also nouns name things.
        for name in [
            "list_workflow_runs",
            "get_deploy_status",
            "list_commands",
            "get_updates",
        ] {
            assert_eq!(class_from_verbs(name, ""), Some(ToolClass::Read), "{name}");
        }
    }

    #[test]
    fn a_description_that_runs_a_read_is_a_read() {
        // Real servers' read tools (mongodb, postgres, 2026-12) that the default tier refused.
        for (name, desc) in [
            ("find", "Run a find query against a MongoDB collection"),
            ("query", "Run a read-only SQL query"),
            (
                "search_docs",
                "Execute a search over the indexed documents.",
            ),
        ] {
            assert_eq!(
                class_from_verbs(name, desc),
                Some(ToolClass::Read),
                "{name}: {desc}"
            );
        }
        for (name, desc) in [
            ("shell", "Run shell commands on the host"),
            ("exec", "Execute a read command"),
            ("find", "Run a command that finds files"),
        ] {
            assert_eq!(
                class_from_verbs(name, desc),
                Some(ToolClass::Admin),
                "{name}: {desc}"
            );
        }
    }

    #[test]
    fn annotations_cannot_lower_an_admin_tool_and_globs_ignore_case() {
        let mut t = Trust::new(&ServerSection {
            trust_level: TrustLevel::Trusted,
            blocked_tools: vec!["*delete*".into()],
            ..ServerSection::default()
        });
        t.learn(&json!({"name": "execute_command", "annotations": {"destructiveHint": true}}));
        t.learn(&json!({"name": "run_shell", "annotations": {"destructiveHint": false}}));
        assert!(t.check_tool("execute_command").is_err());
        assert!(t.check_tool("run_shell").is_err());
        for name in ["DeleteRepo", "batchDelete", "DELETE_REPO"] {
            assert!(
                matches!(t.check_tool(name), Err(Denial::Blocked(_))),
                "{name}"
            );
        }
    }

    #[test]
    fn invisible_and_look_alike_letters_hide_no_verb_and_no_blocked_name() {
        let t = Trust::new(&ServerSection {
            trust_level: TrustLevel::Verified,
            blocked_tools: vec!["*delete*".into()],
            ..ServerSection::default()
        });
        // A zero-width space, a Cyrillic `е`, fullwidth letters.
        for name in [
            "de\u{200b}lete_file",
            "d\u{435}lete_repo",
            "\u{ff44}elete_x",
        ] {
            assert!(
                matches!(t.check_tool(name), Err(Denial::Blocked(_))),
                "{name}"
            );
        }
        let open = trust(TrustLevel::Verified);
        assert_eq!(
            class_from_verbs("d\u{435}lete_repo", ""),
            Some(ToolClass::Destructive)
        );
        assert!(open.check_tool("d\u{435}lete_repo").is_err());
        assert!(open.check_tool("de\u{200b}leteFile").is_err());
    }

    #[test]
    fn tiers_allow_classes_up_to_their_own() {
        // Reference bug 14: basic blocked every real tool and let a tool named `ping` through;
        // verified, trusted and privileged were identical.
        let mut basic = trust(TrustLevel::Basic);
        basic.learn(&json!({"name": "read_file", "annotations": {"readOnlyHint": true}}));
        assert!(basic.check_tool("read_file").is_ok());
        assert!(basic.check_tool("write_file").is_err());
        let verified = trust(TrustLevel::Verified);
        assert!(verified.check_tool("write_file").is_ok());
        assert!(verified.check_tool("delete_file").is_err());
        assert!(trust(TrustLevel::Trusted).check_tool("delete_file").is_ok());
        assert!(trust(TrustLevel::Trusted)
            .check_tool("execute_command")
            .is_err());
        assert!(trust(TrustLevel::Privileged)
            .check_tool("execute_command")
            .is_ok());
        assert_eq!(
            trust(TrustLevel::None).check_tool("read_file"),
            Err(Denial::TierNone)
        );
        // A tool with no signal counts as write.
        assert!(basic.check_tool("frobnicate").is_err());
    }

    #[test]
    fn a_read_joined_to_another_action_or_marked_not_read_only_is_no_read() {
        let mut basic = trust(TrustLevel::Basic);
        // Not read-only by its annotations: at least write, whatever its verbs say.
        basic.learn(&json!({"name": "search_and_replace", "annotations": {"readOnlyHint": false}}));
        assert!(basic.check_tool("search_and_replace").is_err());
        basic.learn(&json!({"name": "lookup_rates", "annotations": {"readOnlyHint": false}}));
        assert!(basic.check_tool("lookup_rates").is_err());
        // A read joined to a verb nobody listed: no signal, so write.
        assert_eq!(class_from_verbs("search_flights_and_book", ""), None);
        assert!(basic.check_tool("search_flights_and_book").is_err());
        assert_eq!(
            class_from_verbs("search_and_replace", ""),
            Some(ToolClass::Write)
        );
        // A verb after the conjunction counts whatever the read before it (`update` is also a
        // noun after a leading read, as in `get_updates`).
        for (name, class) in [
            ("get_and_update_issue", ToolClass::Write),
            ("read_then_reset", ToolClass::Destructive),
            ("get_or_clear_cache", ToolClass::Destructive),
            ("fetch_and_run", ToolClass::Admin),
            ("check_and_deploy", ToolClass::Admin),
        ] {
            assert_eq!(class_from_verbs(name, ""), Some(class), "{name}");
        }
        // Two reads joined stay a read; a read-only tool whose name joins nouns is read by
        // its annotations.
        assert_eq!(
            class_from_verbs("search_and_list", ""),
            Some(ToolClass::Read)
        );
        basic.learn(
            &json!({"name": "list_users_and_groups", "annotations": {"readOnlyHint": true}}),
        );
        assert!(basic.check_tool("list_users_and_groups").is_ok());
        // Still read-only when the annotations say so.
        basic.learn(&json!({"name": "get_book", "annotations": {"readOnlyHint": true}}));
        assert!(basic.check_tool("get_book").is_ok());
    }

    #[test]
    fn below_trusted_annotations_cannot_lower_the_class() {
        let mut v = trust(TrustLevel::Verified);
        let (_, class, _, _) = v
            .learn(&json!({"name": "delete_repo", "annotations": {"readOnlyHint": true}}))
            .unwrap();
        assert_eq!(class, ToolClass::Destructive);
        let mut t = trust(TrustLevel::Trusted);
        let (_, class, _, _) = t
            .learn(&json!({"name": "delete_repo", "annotations": {"readOnlyHint": true}}))
            .unwrap();
        assert_eq!(class, ToolClass::Read);
    }

    #[test]
    fn globs_block_wins_and_config_class_overrides() {
        let mut s = ServerSection {
            allowed_tools: vec!["git_*".into(), "read_*".into()],
            blocked_tools: vec!["git_push*".into()],
            ..ServerSection::default()
        };
        s.tools.insert(
            "git_reset".into(),
            crate::config::ToolSection {
                class: Some(ToolClass::Read),
                ..Default::default()
            },
        );
        let t = Trust::new(&s);
        assert!(t.check_tool("git_status").is_ok());
        assert!(matches!(
            t.check_tool("git_push_force"),
            Err(Denial::Blocked(_))
        ));
        assert_eq!(t.check_tool("write_file"), Err(Denial::NotAllowed));
        assert!(t.check_tool("git_reset").is_ok());
    }
}
