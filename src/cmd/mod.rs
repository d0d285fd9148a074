//! One module per subcommand.

pub mod audit;
pub mod init;
pub mod pins;
pub mod rules;
pub mod scan;
pub mod wrap;
