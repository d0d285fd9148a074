//! Rate limits per tool and per server: GCRA (the `governor` crate) on a monotonic clock, a
//! per-minute pace with a burst allowance and an hourly cap. A refusal says which limit was hit
//! and when to retry.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::config::{RateLimitSection, ServerSection};

/// A minute pace and an hourly cap.
struct Pair {
    minute: DefaultDirectRateLimiter,
    hour: DefaultDirectRateLimiter,
}

impl Pair {
    fn new(per_minute: u32, per_hour: u32, burst: u32) -> Self {
        let nz = |n: u32| NonZeroU32::new(n.max(1)).expect("at least 1");
        Pair {
            minute: RateLimiter::direct(Quota::per_minute(nz(per_minute)).allow_burst(nz(burst))),
            hour: RateLimiter::direct(Quota::per_hour(nz(per_hour))),
        }
    }

    /// `Err(which, retry after)` when either limit is spent; a call counts against both only
    /// when both allow it.
    fn check(&self, clock: &DefaultClock) -> Result<(), (&'static str, Duration)> {
        if let Err(n) = self.hour.check() {
            return Err(("per hour", n.wait_time_from(clock.now())));
        }
        if let Err(n) = self.minute.check() {
            return Err(("per minute", n.wait_time_from(clock.now())));
        }
        Ok(())
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

pub struct RateLimits {
    enabled: bool,
    defaults: (u32, u32, Option<u32>),
    server: Option<Pair>,
    tool_settings: HashMap<String, (Option<u32>, Option<u32>)>,
    tools: Mutex<HashMap<String, Pair>>,
    clock: DefaultClock,
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
            defaults: (per_minute, per_hour, global.burst),
            server: server_pair,
            tool_settings: server
                .tools
                .iter()
                .map(|(k, t)| (k.clone(), (t.max_calls_per_minute, t.max_calls_per_hour)))
                .collect(),
            tools: Mutex::new(HashMap::new()),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one call of `tool`, or says which limit refuses it.
    pub fn check(&self, tool: &str) -> Result<(), Limited> {
        if !self.enabled {
            return Ok(());
        }
        let mut tools = self.tools.lock().unwrap_or_else(|e| e.into_inner());
        let pair = tools.entry(tool.to_string()).or_insert_with(|| {
            let (m, h, burst) = self.defaults;
            let (tm, th) = self.tool_settings.get(tool).copied().unwrap_or_default();
            let m = tm.unwrap_or(m);
            Pair::new(m, th.unwrap_or(h), burst.unwrap_or(m).max(1))
        });
        if let Some(server) = &self.server {
            server.check(&self.clock).map_err(|(w, d)| Limited {
                limit: format!("server {w}"),
                retry_after: d,
            })?;
        }
        pair.check(&self.clock).map_err(|(w, d)| Limited {
            limit: format!("tool {w}"),
            retry_after: d,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
