//! parapet-proxy: everything between the bytes of an MCP session and the scanning engine.
//!
//! The flow reads top to bottom: [`stdio`] spawns the server and pumps both directions;
//! [`frame`] cuts bytes into messages; [`message`] classifies them; [`pipeline`] applies trust
//! ([`trust`]), rate limits ([`ratelimit`]), the content scan and manifest integrity
//! ([`integrity`]), recording every decision in the [`audit`] trail; [`shutdown`] ends it
//! cleanly. [`config`] reads `parapet.yaml` and the environment ([`workdir_config`]: what a
//! project's own file may not do); [`session`] wires it all up.

pub mod audit;
pub mod config;
pub mod error;
pub mod frame;
#[doc(hidden)]
pub mod fuzzing;
pub mod integrity;
pub mod keys;
pub mod message;
pub mod outline;
pub mod paths;
pub mod pipeline;
pub mod ratelimit;
pub mod scanner_setup;
pub mod session;
pub mod shutdown;
pub mod stall;
pub mod stderr;
pub mod stdio;
pub mod template;
pub mod trust;
pub mod workdir_config;

#[cfg(test)]
#[path = "../../engine/tests/support/rule_cache.rs"]
mod rule_cache;

pub use config::Config;
pub use error::{ProxyError, Result};
