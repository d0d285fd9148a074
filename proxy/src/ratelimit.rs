//! Rate limits per tool and per server: a per-minute pace with a burst allowance (GCRA) and a
//! true hourly cap (at most N calls in any 60 minutes, counted by the minute), on a monotonic
//! clock. A call is
//! checked against every limit before it counts against any, so a refused call spends
//! nothing; a refusal names the limit and when the call would pass.
//!
//! Written here rather than with the `governor` crate: governor takes a cell on every check
//! that passes and cannot test several limits first, so a call refused by one limit had
//! spent the others (and its `retry_after` then named the wrong one); and its hourly quota,
//! a GCRA with a burst of N, let 2N calls through in the first hour.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::{RateLimitSection, ServerSection};

const MINUTE: u64 = 60_000_000_000;
const HOUR: u64 = 60 * MINUTE;

/// GCRA: one call per `interval`, up to `burst` at once.
struct Pace {
    interval: u64,
    tolerance: u64,
    /// Theoretical arrival time of the next call (ns on the limiter's clock).
    tat: u64,
}

impl Pace {
    fn per_minute(calls: u32, burst: u32) -> Self {
        let interval = MINUTE / u64::from(calls.max(1));
        Pace {
            interval,
            tolerance: interval.saturating_mul(u64::from(burst.max(1) - 1)),
            tat: 0,
        }
    }

    /// How long until a call may pass (0: now).
    fn wait(&self, now: u64) -> u64 {
        self.tat
            .max(now)
            .saturating_sub(self.tolerance)
            .saturating_sub(now)
    }

    fn take(&mut self, now: u64) {
        self.tat = self.tat.max(now) + self.interval;
    }

    fn idle(&self, now: u64) -> bool {
        self.tat <= now
    }
}

/// Minutes of the hourly window: the current one and the sixty before it, so any 60-minute
/// span lies inside what is counted (a call may wait up to a minute longer than it must,
/// never pass early).
const WINDOW_MINUTES: usize = 61;

/// At most `cap` calls in any hour, counted by the minute (constant memory, whatever the cap).
struct Window {
    cap: u64,
    counts: [u64; WINDOW_MINUTES],
    /// The minute the newest bucket counts.
    newest: u64,
    total: u64,
}

impl Window {
    fn per_hour(calls: u32) -> Self {
        Window {
            cap: u64::from(calls.max(1)),
            counts: [0; WINDOW_MINUTES],
            newest: 0,
            total: 0,
        }
    }

    /// Drops the minutes that left the window by `now`.
    fn advance(&mut self, now: u64) {
        let minute = now / MINUTE;
        if minute <= self.newest {
            return;
        }
        let steps = (minute - self.newest).min(WINDOW_MINUTES as u64);
        for i in 1..=steps {
            let slot = ((self.newest + i) % WINDOW_MINUTES as u64) as usize;
            self.total -= self.counts[slot];
            self.counts[slot] = 0;
        }
        self.newest = minute;
    }

    fn wait(&mut self, now: u64) -> u64 {
        self.advance(now);
        if self.total < self.cap {
            return 0;
        }
        // The oldest minutes must leave until one call fits.
        let mut left = self.total;
        let oldest = self.newest.saturating_sub(WINDOW_MINUTES as u64 - 1);
        for minute in oldest..=self.newest {
            left -= self.counts[(minute % WINDOW_MINUTES as u64) as usize];
            if left < self.cap {
                return ((minute + WINDOW_MINUTES as u64) * MINUTE).saturating_sub(now);
            }
        }
        HOUR
    }

    fn take(&mut self, now: u64) {
        self.advance(now);
        self.counts[(self.newest % WINDOW_MINUTES as u64) as usize] += 1;
        self.total += 1;
    }

    fn idle(&self, now: u64) -> bool {
        self.total == 0 || now / MINUTE >= self.newest + WINDOW_MINUTES as u64
    }
}

/// A minute pace and an hourly cap.
struct Pair {
    minute: Pace,
    hour: Window,
}

impl Pair {
    fn new(per_minute: u32, per_hour: u32, burst: u32) -> Self {
        Pair {
            minute: Pace::per_minute(per_minute, burst),
            hour: Window::per_hour(per_hour),
        }
    }

    /// The longest wait among its limits, named; `None` when both allow a call now.
    fn wait(&mut self, now: u64) -> Option<(&'static str, u64)> {
        [
            ("per minute", self.minute.wait(now)),
            ("per hour", self.hour.wait(now)),
        ]
        .into_iter()
        .filter(|&(_, w)| w > 0)
        .max_by_key(|&(_, w)| w)
    }

    fn take(&mut self, now: u64) {
        self.minute.take(now);
        self.hour.take(now);
    }

    fn idle(&self, now: u64) -> bool {
        self.minute.idle(now) && self.hour.idle(now)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Limited {
    /// `tool per minute`, `server per hour`, ...
    pub limit: String,
    pub retry_after: Duration,
}

impl Limited {
    /// Whole seconds, at least 1 (the reference's `retry_after` field).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs_f64().ceil().max(1.0) as u64
    }
}

/// Tools with limits kept at once; past this, tools whose limits have fully recovered are
/// forgotten (a client naming endless tools must not grow the proxy), and while none has,
/// every further tool shares one limit ([`State::overflow`]).
const MAX_TOOLS: usize = 10_000;

/// How often a full table of tools is swept for recovered ones.
const SWEEP_EVERY: u64 = 1_000_000_000;

struct State {
    server: Option<Pair>,
    tools: HashMap<String, Pair>,
    /// The one limit the tools past [`MAX_TOOLS`] share, at the default figures: they are
    /// neither refused for good nor given fresh limits (evicting a busy tool to make room
    /// would reset its own).
    overflow: Option<Pair>,
    /// When recovered tools were last forgotten (a full table is swept at most once a second).
    swept: Option<u64>,
}

pub struct RateLimits {
    enabled: bool,
    defaults: (u32, u32, Option<u32>),
    tool_settings: HashMap<String, (Option<u32>, Option<u32>)>,
    state: Mutex<State>,
    start: Instant,
}

impl RateLimits {
    pub fn new(global: &RateLimitSection, server: &ServerSection) -> Self {
        let per_minute = server
            .max_calls_per_minute
            .unwrap_or(global.default_per_minute);
        let per_hour = server.max_calls_per_hour.unwrap_or(global.default_per_hour);
        let server_pair = match (server.server_calls_per_minute, server.server_calls_per_hour) {
            (None, None) => None,
            (m, h) => Some(Pair::new(
                m.unwrap_or(u32::MAX / 60),
                h.unwrap_or(u32::MAX / 60),
                m.unwrap_or(u32::MAX / 60),
            )),
        };
        RateLimits {
            enabled: global.enabled,
            // A server's own per-minute figure caps `rate_limit.burst` (a global burst of 60
            // must not lift a server set to 10; one of 5 still holds it to 5 at once).
            defaults: (
                per_minute,
                per_hour,
                match (global.burst, server.max_calls_per_minute) {
                    (Some(b), Some(own)) => Some(b.min(own)),
                    (b, _) => b,
                },
            ),
            tool_settings: server
                .tools
                .iter()
                .map(|(k, t)| (k.clone(), (t.max_calls_per_minute, t.max_calls_per_hour)))
                .collect(),
            state: Mutex::new(State {
                server: server_pair,
                tools: HashMap::new(),
                overflow: None,
                swept: None,
            }),
            start: Instant::now(),
        }
    }

    /// Counts one call of `tool`, or says which limit refuses it.
    pub fn check(&self, tool: &str) -> Result<(), Limited> {
        let now = self.start.elapsed().as_nanos() as u64;
        self.check_at(tool, now)
    }

    fn new_pair(&self, tool: &str) -> Pair {
        let (m, h, burst) = self.defaults;
        let (tm, th) = self.tool_settings.get(tool).copied().unwrap_or_default();
        // A tool's own per-minute figure caps the burst as a server's does.
        let burst = match tm {
            Some(own) => burst.map_or(own, |b| b.min(own)),
            None => burst.unwrap_or(m),
        };
        Pair::new(tm.unwrap_or(m), th.unwrap_or(h), burst)
    }

    fn check_at(&self, tool: &str, now: u64) -> Result<(), Limited> {
        if !self.enabled {
            return Ok(());
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let State {
            server,
            tools,
            overflow,
            swept,
        } = &mut *state;
        let due = swept.is_none_or(|at| now.saturating_sub(at) >= SWEEP_EVERY);
        if tools.len() >= MAX_TOOLS && !tools.contains_key(tool) && due {
            tools.retain(|_, p| !p.idle(now));
            *swept = Some(now);
        }
        // A tool with figures of its own always keeps its own limit.
        let own = tools.contains_key(tool)
            || tools.len() < MAX_TOOLS
            || self.tool_settings.contains_key(tool);
        let pair = if own {
            tools
                .entry(tool.to_string())
                .or_insert_with(|| self.new_pair(tool))
        } else {
            // Thousands of distinct tool names within the hour: the rest share one limit.
            let (m, h, burst) = self.defaults;
            overflow.get_or_insert_with(|| Pair::new(m, h, burst.unwrap_or(m)))
        };
        // Every limit first; the call counts against them only when all allow it.
        let refusal = [
            server
                .as_mut()
                .and_then(|s| s.wait(now))
                .map(|(w, d)| ("server", w, d)),
            pair.wait(now).map(|(w, d)| ("tool", w, d)),
        ]
        .into_iter()
        .flatten()
        .max_by_key(|&(_, _, d)| d);
        if let Some((scope, which, wait)) = refusal {
            return Err(Limited {
                limit: format!("{scope} {which}"),
                retry_after: Duration::from_nanos(wait),
            });
        }
        if let Some(s) = server.as_mut() {
            s.take(now);
        }
        pair.take(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000_000;

    #[test]
    fn a_refused_call_spends_nothing_and_names_the_limit_it_waits_for() {
        let server = ServerSection {
            max_calls_per_minute: Some(1),
            max_calls_per_hour: Some(3),
            ..ServerSection::default()
        };
        let rl = RateLimits::new(&RateLimitSection::default(), &server);
        assert!(rl.check_at("a", 0).is_ok());
        // Refused by the minute pace twice: the hour's three calls are not touched.
        assert_eq!(rl.check_at("a", SEC).unwrap_err().limit, "tool per minute");
        assert_eq!(
            rl.check_at("a", 2 * SEC).unwrap_err().limit,
            "tool per minute"
        );
        assert!(rl.check_at("a", 61 * SEC).is_ok());
        assert!(rl.check_at("a", 122 * SEC).is_ok());
        // Now the hour holds three: the next call waits for the first to leave it.
        let e = rl.check_at("a", 183 * SEC).unwrap_err();
        assert_eq!(e.limit, "tool per hour");
        // The first call's minute leaves the (61-minute) window at 3,660 s.
        assert_eq!(e.retry_after, Duration::from_secs(3660 - 183));
        // A server limit refusing a call leaves the tool's budget alone, and vice versa.
        let server = ServerSection {
            max_calls_per_minute: Some(1),
            server_calls_per_minute: Some(3),
            ..ServerSection::default()
        };
        let rl = RateLimits::new(&RateLimitSection::default(), &server);
        assert!(rl.check_at("a", 0).is_ok());
        assert!(rl.check_at("a", 1).is_err());
        assert!(rl.check_at("a", 2).is_err());
        assert!(rl.check_at("b", 3).is_ok());
        assert!(rl.check_at("c", 4).is_ok());
    }

    #[test]
    fn the_hourly_cap_is_a_true_window_and_a_global_burst_does_not_lift_a_tool_s_own_figure() {
        let global = RateLimitSection {
            default_per_minute: 1000,
            default_per_hour: 120,
            ..RateLimitSection::default()
        };
        let rl = RateLimits::new(&global, &ServerSection::default());
        let mut passed = 0;
        for s in 0..3600 {
            passed += usize::from(rl.check_at("t", s * SEC).is_ok());
        }
        assert_eq!(passed, 120, "at most 120 in any hour");
        let mut tools = std::collections::BTreeMap::new();
        tools.insert(
            "move_file".to_string(),
            crate::config::ToolSection {
                max_calls_per_minute: Some(10),
                ..Default::default()
            },
        );
        let server = ServerSection {
            tools,
            ..ServerSection::default()
        };
        let global = RateLimitSection {
            burst: Some(60),
            ..RateLimitSection::default()
        };
        let rl = RateLimits::new(&global, &server);
        let ok = (0..60)
            .filter(|&i| rl.check_at("move_file", i).is_ok())
            .count();
        assert_eq!(ok, 10);
        // Nor a server's own figure.
        let server = ServerSection {
            max_calls_per_minute: Some(10),
            ..ServerSection::default()
        };
        let rl = RateLimits::new(&global, &server);
        let ok = (0..70).filter(|&i| rl.check_at("echo", i).is_ok()).count();
        assert_eq!(ok, 10);
        // A smaller burst still holds under a server's larger figure.
        let server = ServerSection {
            max_calls_per_minute: Some(120),
            ..ServerSection::default()
        };
        let global = RateLimitSection {
            burst: Some(5),
            ..RateLimitSection::default()
        };
        let rl = RateLimits::new(&global, &server);
        let ok = (0..50).filter(|&i| rl.check_at("echo", i).is_ok()).count();
        assert_eq!(ok, 5);
    }

    #[test]
    fn tools_past_the_table_s_size_share_one_limit_and_busy_tools_keep_theirs() {
        let mut tools = std::collections::BTreeMap::new();
        tools.insert(
            "strict".to_string(),
            crate::config::ToolSection {
                max_calls_per_minute: Some(1),
                ..Default::default()
            },
        );
        let server = ServerSection {
            tools,
            ..ServerSection::default()
        };
        let global = RateLimitSection {
            default_per_minute: 60,
            ..RateLimitSection::default()
        };
        let rl = RateLimits::new(&global, &server);
        assert!(rl.check_at("echo", 0).is_ok());
        for i in 0..MAX_TOOLS {
            let _ = rl.check_at(&format!("t{i}"), 0);
        }
        // A new name is not locked out: it shares the overflow's limit (60 a minute here).
        let shared = (0..100)
            .filter(|&i| rl.check_at(&format!("new{i}"), SEC).is_ok())
            .count();
        assert_eq!(shared, 60);
        assert!(rl.check_at("another", SEC).is_err());
        assert!(rl.check_at("another", 3 * MINUTE).is_ok());
        // A tool already counted keeps its own limit (a full burst, where the shared one is
        // spent), and one with figures of its own gets them even past the table's size.
        let echo = (0..100)
            .filter(|&i| rl.check_at("echo", 2 * SEC + i).is_ok())
            .count();
        assert_eq!(echo, 60);
        assert!(rl.check_at("strict", 4 * MINUTE).is_ok());
        assert!(rl.check_at("strict", 4 * MINUTE + SEC).is_err());
    }

    #[test]
    fn burst_then_refusal_names_the_limit() {
        let global = RateLimitSection {
            default_per_minute: 3,
            ..RateLimitSection::default()
        };
        let rl = RateLimits::new(&global, &ServerSection::default());
        for _ in 0..3 {
            assert!(rl.check("echo").is_ok());
        }
        let e = rl.check("echo").unwrap_err();
        assert_eq!(e.limit, "tool per minute");
        assert!(
            e.retry_after_secs() >= 1 && e.retry_after_secs() <= 20,
            "{e:?}"
        );
        // Another tool has its own quota.
        assert!(rl.check("other").is_ok());
    }

    #[test]
    fn server_total_and_disabled() {
        let server = ServerSection {
            server_calls_per_minute: Some(2),
            ..ServerSection::default()
        };
        let rl = RateLimits::new(&RateLimitSection::default(), &server);
        assert!(rl.check("a").is_ok());
        assert!(rl.check("b").is_ok());
        assert_eq!(rl.check("c").unwrap_err().limit, "server per minute");
        let off = RateLimits::new(
            &RateLimitSection {
                enabled: false,
                default_per_minute: 1,
                ..RateLimitSection::default()
            },
            &ServerSection::default(),
        );
        for _ in 0..100 {
            assert!(off.check("a").is_ok());
        }
    }
}
