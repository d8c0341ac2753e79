//! Logging through tracing, where keepalived's users look, with keepalived's wording in the
//! messages they grep for:
//!
//! * `-l` (`--log-console`): to stderr, with times and levels;
//! * under systemd (stderr is the journal): to journald's own socket, each entry with its
//!   priority and the fields that say what it is about (`INSTANCE`, `VRID`, `STATE`,
//!   `VIRTUAL_SERVER`, `REAL_SERVER`, ...), so that `journalctl -u vigild INSTANCE=VI_1`
//!   finds an instance's transitions; where that socket cannot be opened, to stderr with a
//!   `<N>` prefix, which journald reads as the entry's priority;
//! * otherwise to syslog (/dev/log) as `vigild[PID]`, facility daemon, or local0..local7 with
//!   `-S 0..7` as keepalived. Without a syslog socket, to stderr.
//!
//! On the console and in syslog, a line repeated at once (the same text, whatever its time) is
//! written once; the copies are counted and reported as `last message repeated N times` before
//! the next different line, or with the next copy once [`FOLD_WINDOW`] has passed (keepalived
//! #481, #1910: a failing sender or a flapping check filling the disk with the same line).
//! journald limits a flood itself (`RateLimitIntervalSec=`, `RateLimitBurst=`).
//!
//! The fields that exist for the journal ([`JOURNAL_FIELDS`]) are left out of the text lines,
//! which keep keepalived's wording.

use std::io::{IsTerminal, Write};
use std::os::unix::net::UnixDatagram;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::EnvFilter;

/// How long copies of a line are held back before the count is written.
pub const FOLD_WINDOW: Duration = Duration::from_secs(30);

/// Fields that say what an entry is about, for journal queries; the text says it in words.
pub const JOURNAL_FIELDS: [&str; 5] = ["instance", "vrid", "state", "virtual_server", "real_server"];

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
    if target == Target::Journal {
        if let Ok(journal) = tracing_journald::layer() {
            // Field names as they are (INSTANCE, not F_INSTANCE): they are the query keys.
            let journal = journal.with_field_prefix(None).with_syslog_identifier("vigild".into());
            tracing_subscriber::registry().with(filter).with(journal).init();
            return;
        }
    }
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).fmt_fields(text_fields());
    let sink = match target {
        Target::Console => Sink::Console,
        Target::Journal => Sink::Journal,
        Target::Syslog { facility } => UnixDatagram::unbound()
            .and_then(|s| s.connect("/dev/log").map(|()| s))
            .map_or(Sink::Console, |socket| Sink::Syslog { socket, facility, pid: std::process::id() }),
    };
    let console = matches!(sink, Sink::Console);
    let lines = Lines(Arc::new(Output { sink, fold: Mutex::new(Fold::default()) }));
    if console {
        builder.with_ansi(std::io::stderr().is_terminal()).with_writer(lines).init();
    } else {
        builder.without_time().with_level(false).with_ansi(false).with_writer(lines).init();
    }
}

/// How a text line writes an event's fields: the message, then the other fields as
/// `name=value`, without [`JOURNAL_FIELDS`].
fn text_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + 'static {
    tracing_subscriber::fmt::format::debug_fn(|w, field, value| match field.name() {
        "message" => write!(w, "{value:?}"),
        name if JOURNAL_FIELDS.contains(&name) => Ok(()),
        name => write!(w, " {name}={value:?}"),
    })
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
    /// Standard error as it is (`-l`): the formatter writes time and level.
    Console,
    Journal,
    Syslog {
        socket: UnixDatagram,
        facility: u8,
        pid: u32,
    },
}

impl Sink {
    /// The framing of one message at `severity`: the journal's `<N>` prefix, or a syslog
    /// datagram's `<PRI>vigild[PID]: ` header.
    fn header(&self, severity: u8) -> String {
        match self {
            Sink::Console => String::new(),
            Sink::Journal => format!("<{severity}>"),
            Sink::Syslog { facility, pid, .. } => format!("<{}>vigild[{pid}]: ", facility * 8 + severity),
        }
    }

    fn send(&self, message: &[u8]) {
        match self {
            Sink::Console | Sink::Journal => {
                let _ = std::io::stderr().lock().write_all(message);
            }
            Sink::Syslog { socket, .. } => {
                let _ = socket.send(message);
            }
        }
    }
}

/// The sink and what it last wrote.
struct Output {
    sink: Sink,
    fold: Mutex<Fold>,
}

impl Output {
    /// Writes `line` (framed, its text from `text_at` on) unless it repeats the last one.
    fn write(&self, line: &[u8], text_at: usize) {
        let mut fold = self.fold.lock().unwrap_or_else(PoisonError::into_inner);
        // A console line starts with its time: the text to compare comes after it.
        let text = match self.sink {
            Sink::Console => line.iter().position(|b| *b == b' ').map_or(line, |i| &line[i..]),
            _ => line.get(text_at..).unwrap_or(line),
        };
        match fold.line(text, Instant::now()) {
            Folded::Write => self.sink.send(line),
            Folded::Hold => {}
            Folded::AfterRepeats(repeated) => {
                let mut summary = self.sink.header(6).into_bytes();
                summary.extend_from_slice(format!("last message repeated {repeated} times").as_bytes());
                if !matches!(self.sink, Sink::Syslog { .. }) {
                    summary.push(b'\n');
                }
                self.sink.send(&summary);
                self.sink.send(line);
            }
        }
    }
}

/// Repeated lines: the last line written, how many copies of it were held back, and when the
/// first of them came.
#[derive(Debug, Default)]
struct Fold {
    last: Vec<u8>,
    held: u32,
    since: Option<Instant>,
}

/// What to do with a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Folded {
    Write,
    /// Hold it back: a copy of the last one.
    Hold,
    /// Write "last message repeated N times", then the line.
    AfterRepeats(u32),
}

impl Fold {
    /// What to do with `text` at `now`.
    fn line(&mut self, text: &[u8], now: Instant) -> Folded {
        let held = if text == self.last.as_slice() {
            let since = *self.since.get_or_insert(now);
            if now.duration_since(since) < FOLD_WINDOW {
                self.held += 1;
                return Folded::Hold;
            }
            std::mem::take(&mut self.held)
        } else {
            self.last.clear();
            self.last.extend_from_slice(text);
            std::mem::take(&mut self.held)
        };
        self.since = None;
        if held == 0 {
            Folded::Write
        } else {
            Folded::AfterRepeats(held)
        }
    }
}

/// Makes one [`Line`] per event.
struct Lines(Arc<Output>);

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
    output: Arc<Output>,
    buf: Vec<u8>,
    /// Where the text starts, after the frame's header.
    text_at: usize,
}

impl Line {
    fn new(output: Arc<Output>, severity: u8) -> Line {
        let buf = output.sink.header(severity).into_bytes();
        Line { text_at: buf.len(), output, buf }
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
        if matches!(self.output.sink, Sink::Syslog { .. }) && self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        }
        self.output.write(&self.buf, self.text_at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lines_keep_keepalived_wording() {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = {
            let buf = buf.clone();
            move || TestWriter(buf.clone())
        };
        let subscriber = tracing_subscriber::fmt()
            .with_writer(writer)
            .without_time()
            .with_level(false)
            .with_target(false)
            .with_ansi(false)
            .fmt_fields(text_fields())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let name = "VI_1";
            tracing::info!(instance = %name, vrid = 51, state = "MASTER", "({name}) Entering MASTER STATE");
            tracing::info!(
                virtual_server = "10.0.0.1:80",
                check = "TCP_CHECK",
                "TCP connection to [10.0.0.2]:tcp:80 success."
            );
        });
        let text = String::from_utf8(buf.lock().unwrap_or_else(PoisonError::into_inner).clone()).unwrap_or_default();
        assert_eq!(
            text,
            "(VI_1) Entering MASTER STATE\nTCP connection to [10.0.0.2]:tcp:80 success. check=\"TCP_CHECK\"\n"
        );
    }

    struct TestWriter(Arc<Mutex<Vec<u8>>>);

    impl Write for TestWriter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

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
        let output =
            Arc::new(Output { sink: Sink::Syslog { socket, facility: 16, pid: 42 }, fold: Default::default() });
        let send = |text: &[u8], level: Level| {
            let mut line = Line::new(output.clone(), severity(&level));
            line.write_all(text).expect("buffered");
        };
        send(b"(VI_1) Entering MASTER STATE\n", Level::WARN);
        send(b"(VI_1) cannot send an advert\n", Level::WARN);
        send(b"(VI_1) cannot send an advert\n", Level::WARN);
        send(b"(VI_1) cannot send an advert\n", Level::ERROR);
        send(b"(VI_1) Entering BACKUP STATE\n", Level::INFO);
        peer.set_nonblocking(true).expect("nonblocking");
        let mut got = Vec::new();
        let mut buf = [0u8; 128];
        while let Ok(n) = peer.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        assert_eq!(
            got,
            [
                "<132>vigild[42]: (VI_1) Entering MASTER STATE",
                "<132>vigild[42]: (VI_1) cannot send an advert",
                "<134>vigild[42]: last message repeated 2 times",
                "<134>vigild[42]: (VI_1) Entering BACKUP STATE",
            ]
        );
        assert_eq!(Sink::Journal.header(severity(&Level::ERROR)), "<3>");
        assert_eq!(Sink::Journal.header(severity(&Level::DEBUG)), "<7>");
    }

    #[test]
    fn copies_are_counted_and_reported_after_the_window() {
        let mut fold = Fold::default();
        let t = Instant::now();
        assert_eq!(fold.line(b"a", t), Folded::Write);
        assert_eq!(fold.line(b"a", t + Duration::from_secs(1)), Folded::Hold);
        assert_eq!(fold.line(b"a", t + Duration::from_secs(2)), Folded::Hold);
        // The window counts from the first copy held back.
        assert_eq!(fold.line(b"a", t + Duration::from_secs(1) + FOLD_WINDOW), Folded::AfterRepeats(2));
        assert_eq!(fold.line(b"a", t + Duration::from_secs(40)), Folded::Hold);
        assert_eq!(fold.line(b"b", t + Duration::from_secs(41)), Folded::AfterRepeats(1));
        assert_eq!(fold.line(b"a", t + Duration::from_secs(42)), Folded::Write);
    }
}
