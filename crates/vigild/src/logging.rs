//! Logging through tracing, where keepalived's users look, with keepalived's wording in the
//! messages they grep for:
//!
//! * `-l` (`--log-console`): to stderr, with times and levels;
//! * under systemd (stderr is the journal): to stderr, each line with its syslog level as a
//!   `<N>` prefix, which journald reads as the entry's priority;
//! * otherwise to syslog (/dev/log) as `vigild[PID]`, facility daemon, or local0..local7 with
//!   `-S 0..7` as keepalived. Without a syslog socket, to stderr.

use std::io::{IsTerminal, Write};
use std::os::unix::net::UnixDatagram;
use std::sync::Arc;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// syslog's facility numbers (RFC 5424): daemon, and local0 (local1..7 follow).
const LOG_DAEMON: u8 = 3;
const LOG_LOCAL0: u8 = 16;

/// Where the log goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Console,
    Journal,
    Syslog { facility: u8 },
}

/// Chooses the target from the flags and the environment (`JOURNAL_STREAM` is set by systemd
/// when stderr is the journal).
pub fn target(console: bool, facility: Option<u8>, journal: bool) -> Target {
    if console {
        Target::Console
    } else if journal {
        Target::Journal
    } else {
        Target::Syslog { facility: facility.map_or(LOG_DAEMON, |n| LOG_LOCAL0 + n.min(7)) }
    }
}

/// Sets up the global subscriber. `detail` (`-D`) adds debug messages; `RUST_LOG` overrides.
pub fn init(detail: bool, target: Target) {
    let default = if detail { "debug" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let sink = match target {
        Target::Console => None,
        Target::Journal => Some(Sink::Journal),
        Target::Syslog { facility } => UnixDatagram::unbound()
            .and_then(|s| s.connect("/dev/log").map(|()| s))
            .ok()
            .map(|socket| Sink::Syslog { socket, facility, pid: std::process::id() }),
    };
    match sink {
        Some(sink) => {
            builder.without_time().with_level(false).with_ansi(false).with_writer(Lines(Arc::new(sink))).init()
        }
        None => builder.with_ansi(std::io::stderr().is_terminal()).with_writer(std::io::stderr).init(),
    }
}

/// syslog's severity for a tracing level.
fn severity(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// Where framed lines go.
enum Sink {
    Journal,
    Syslog { socket: UnixDatagram, facility: u8, pid: u32 },
}

impl Sink {
    /// The framing of one message at `severity`: the journal's `<N>` prefix, or a syslog
    /// datagram's `<PRI>vigild[PID]: ` header.
    fn header(&self, severity: u8) -> String {
        match self {
            Sink::Journal => format!("<{severity}>"),
            Sink::Syslog { facility, pid, .. } => format!("<{}>vigild[{pid}]: ", facility * 8 + severity),
        }
    }

    fn send(&self, message: &[u8]) {
        match self {
            Sink::Journal => {
                let _ = std::io::stderr().lock().write_all(message);
            }
            Sink::Syslog { socket, .. } => {
                let _ = socket.send(message);
            }
        }
    }
}

/// Makes one [`Line`] per event.
struct Lines(Arc<Sink>);

impl<'a> MakeWriter<'a> for Lines {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line::new(self.0.clone(), 6)
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line {
        Line::new(self.0.clone(), severity(meta.level()))
    }
}

/// One event's text, framed and sent as a whole when dropped.
struct Line {
    sink: Arc<Sink>,
    buf: Vec<u8>,
}

impl Line {
    fn new(sink: Arc<Sink>, severity: u8) -> Line {
        let buf = sink.header(severity).into_bytes();
        Line { sink, buf }
    }
}

impl Write for Line {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if matches!(*self.sink, Sink::Syslog { .. }) && self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        }
        self.sink.send(&self.buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_flags_choose_the_target() {
        assert_eq!(target(true, Some(3), true), Target::Console, "-l wins");
        assert_eq!(target(false, Some(3), true), Target::Journal);
        assert_eq!(target(false, None, false), Target::Syslog { facility: 3 }, "daemon");
        assert_eq!(target(false, Some(0), false), Target::Syslog { facility: 16 }, "local0");
        assert_eq!(target(false, Some(7), false), Target::Syslog { facility: 23 }, "local7");
    }

    #[test]
    fn lines_are_framed_for_syslog_and_the_journal() {
        let (socket, peer) = UnixDatagram::pair().expect("a socket pair");
        let sink = Arc::new(Sink::Syslog { socket, facility: 16, pid: 42 });
        let mut line = Line::new(sink, severity(&Level::WARN));
        line.write_all(b"(VI_1) Entering MASTER STATE\n").expect("buffered");
        drop(line);
        let mut buf = [0u8; 128];
        let n = peer.recv(&mut buf).expect("one datagram");
        assert_eq!(&buf[..n], b"<132>vigild[42]: (VI_1) Entering MASTER STATE");
        assert_eq!(Sink::Journal.header(severity(&Level::ERROR)), "<3>");
        assert_eq!(Sink::Journal.header(severity(&Level::DEBUG)), "<7>");
    }
}
