//! Allowlists: the rule ids and fingerprints whose findings a scan silences. The scanner has
//! its own; for the length of one call ([`CallScope`], a scoped thread-local) a caller may add a
//! server's or a tool's, or set them all aside (an audit trail must hold no secret, accepted or
//! not). Findings are dropped before overlaps are resolved, so a silenced finding never takes
//! another with it.

use std::cell::RefCell;
use std::collections::HashSet;

/// Rule ids and fingerprints.
#[derive(Default)]
pub(crate) struct Allowlists {
    rules: HashSet<String>,
    fingerprints: HashSet<String>,
}

/// What this thread's scans allowlist during one call.
#[derive(Default)]
enum Scope {
    /// The scanner's own lists.
    #[default]
    Scanner,
    /// None at all.
    Off,
    /// The scanner's and these.
    More(Allowlists),
}

thread_local! {
    static SCOPE: RefCell<Scope> = const { RefCell::new(Scope::Scanner) };
}

/// While alive, this thread's scans use another scope; the one before comes back on drop.
pub(crate) struct CallScope(Scope);

impl CallScope {
    /// Allowlists set aside.
    pub(crate) fn off() -> Self {
        CallScope(SCOPE.with(|s| s.replace(Scope::Off)))
    }

    /// More rule ids and fingerprints silenced.
    pub(crate) fn more(more: Allowlists) -> Self {
        CallScope(SCOPE.with(|s| s.replace(Scope::More(more))))
    }
}

impl Drop for CallScope {
    fn drop(&mut self) {
        let before = std::mem::take(&mut self.0);
        SCOPE.with(|s| *s.borrow_mut() = before);
    }
}

impl Allowlists {
    pub(crate) fn new(
        rules: impl IntoIterator<Item = String>,
        fingerprints: impl IntoIterator<Item = String>,
    ) -> Self {
        Allowlists {
            rules: rules.into_iter().collect(),
            fingerprints: fingerprints.into_iter().collect(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.fingerprints.is_empty()
    }

    pub(crate) fn has_rule(&self, id: &str) -> bool {
        self.rules.contains(id)
    }

    pub(crate) fn has_fingerprint(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }

    /// Keeps the items that neither these lists nor this call's scope silence. `rule_of` names
    /// an item's rule; `fingerprint_of` is asked only when some fingerprint is listed.
    pub(crate) fn retain<'r, T>(
        &self,
        items: &mut Vec<T>,
        rule_of: impl Fn(&T) -> &'r str,
        fingerprint_of: impl Fn(&T) -> String,
    ) {
        SCOPE.with_borrow(|scope| {
            let more = match scope {
                Scope::Off => return,
                Scope::Scanner => None,
                Scope::More(more) => Some(more),
            };
            if self.is_empty() && more.is_none_or(Allowlists::is_empty) {
                return;
            }
            let by_fingerprint =
                !self.fingerprints.is_empty() || more.is_some_and(|m| !m.fingerprints.is_empty());
            items.retain(|item| {
                let id = rule_of(item);
                if self.has_rule(id) || more.is_some_and(|m| m.has_rule(id)) {
                    return false;
                }
                if !by_fingerprint {
                    return true;
                }
                let fp = fingerprint_of(item);
                !self.has_fingerprint(&fp) && !more.is_some_and(|m| m.has_fingerprint(&fp))
            });
        });
    }
}
