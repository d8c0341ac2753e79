//! Logging through tracing: to stderr (journald captures it under systemd), with keepalived's
//! wording in the messages users grep for.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Sets up the global subscriber. `detail` (`-D`) adds debug messages; `RUST_LOG` overrides.
pub fn init(detail: bool) {
    let default = if detail { "debug" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}
