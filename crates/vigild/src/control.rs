//! The control socket `vigilctl` talks to: a Unix stream socket, root only (mode 0600 in a
//! root-owned directory). A client writes one command line (`status`, `reload`, `dump`,
//! `stats`, `metrics`) and reads the answer until the daemon closes the connection; or
//! `events`, and reads one JSON line per VRRP or real-server transition for as long as it
//! stays connected. `maintenance` answers the maintenance entries and weight overrides as
//! JSON; `maintenance {...}` changes them (a [`crate::maintenance::Change`] as JSON) and
//! answers the new entries. These are answered here, from the maintenance store, and not by
//! the daemon's loop: they need nothing else of it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use crate::events::{Events, Filter};
use crate::maintenance::{self, Change};

/// The longest command line read: a maintenance request carries a reason.
const MAX_LINE: u64 = 4096;

/// What a client asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// The status document, as JSON.
    Status,
    /// Reload the configuration; the outcome as JSON.
    Reload,
    /// Write the data dump (as SIGUSR1) and return it.
    Dump,
    /// Write the statistics dump (as SIGUSR2) and return it.
    Stats,
    /// The Prometheus metrics.
    Metrics,
}

impl Command {
    fn parse(line: &str) -> Option<Command> {
        Some(match line.trim() {
            "status" => Command::Status,
            "reload" => Command::Reload,
            "dump" => Command::Dump,
            "stats" => Command::Stats,
            "metrics" => Command::Metrics,
            _ => return None,
        })
    }
}

/// A command for the daemon's loop, and where its answer goes.
pub struct Request {
    pub command: Command,
    pub reply: oneshot::Sender<String>,
}

/// The listening socket; its file goes when this is dropped.
pub struct Server {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Listens on `path`; every request goes to `requests`. A socket file left by a daemon that
/// is gone is replaced; one another vigild answers on is an error.
pub fn serve(path: &Path, requests: mpsc::Sender<Request>, events: Events) -> anyhow::Result<Server> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            anyhow::bail!("another vigild answers on {}", path.display());
        }
        std::fs::remove_file(path).with_context(|| format!("removing the stale {}", path.display()))?;
    }
    let listener = UnixListener::bind(path).with_context(|| format!("listening on {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("restricting {}", path.display()))?;
    let expiry = tokio::spawn(maintenance::expire_loop(maintenance::store(), events.clone()));
    let task = tokio::spawn(async move {
        // The expiries end with the socket: both serve the same daemon.
        let _expiry = AbortOnDrop(expiry);
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(answer(stream, requests.clone(), events.clone()));
                }
                Err(e) => {
                    tracing::warn!("control socket: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    });
    Ok(Server { path: path.to_path_buf(), task })
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Whether `line` is a `maintenance` request.
fn is_maintenance(line: &str) -> bool {
    line.trim().strip_prefix("maintenance").is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
}

/// Answers `maintenance` (the entries) and `maintenance {change}` (applies it, publishes its
/// events, answers the entries and how many real servers it names).
fn answer_maintenance(line: &str, events: &Events) -> String {
    let rest = line.trim().strip_prefix("maintenance").unwrap_or_default().trim();
    let store = maintenance::store();
    if rest.is_empty() {
        return json_line(&store.snapshot());
    }
    let change: Change = match serde_json::from_str(rest) {
        Ok(c) => c,
        Err(e) => return format!("error: invalid maintenance request: {e}\n"),
    };
    match store.change(change, std::time::SystemTime::now()) {
        Ok((kinds, answer)) => {
            maintenance::publish(events, kinds);
            json_line(&answer)
        }
        Err(e) => format!("error: {e}\n"),
    }
}

fn json_line<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_string(value) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        Err(e) => format!("error: {e}\n"),
    }
}

/// Reads one command, hands it to the daemon, writes the answer.
async fn answer(stream: UnixStream, requests: mpsc::Sender<Request>, events: Events) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = BufReader::new(read.take(MAX_LINE));
    let reply = match reader.read_line(&mut line).await {
        Ok(_) if line.trim() == "events" => {
            stream_events(&events, &mut write).await;
            return;
        }
        Ok(_) if is_maintenance(&line) => {
            // The file is synced to disk: off the runtime, whose thread runs the VRRP timers.
            let events = events.clone();
            tokio::task::spawn_blocking(move || answer_maintenance(&line, &events))
                .await
                .unwrap_or_else(|e| format!("error: {e}\n"))
        }
        Ok(_) => match Command::parse(&line) {
            Some(command) => {
                let (reply, answer) = oneshot::channel();
                if requests.send(Request { command, reply }).await.is_err() {
                    "error: the daemon is stopping\n".to_string()
                } else {
                    answer.await.unwrap_or_else(|_| "error: no answer\n".to_string())
                }
            }
            None => {
                format!(
                    "error: unknown command {:?}; try status, reload, dump, stats, metrics, events or maintenance\n",
                    line.trim()
                )
            }
        },
        Err(e) => format!("error: {e}\n"),
    };
    let _ = write.write_all(reply.as_bytes()).await;
    let _ = write.shutdown().await;
}

/// Writes the recent events and then every new one as JSON lines, until the client goes or
/// falls too far behind.
async fn stream_events(events: &Events, write: &mut tokio::net::unix::OwnedWriteHalf) {
    let (id, mut rx) = events.subscribe_with_backlog(Filter::All);
    while let Some(e) = rx.recv().await {
        let Ok(mut line) = serde_json::to_string(&*e) else { continue };
        line.push('\n');
        if write.write_all(line.as_bytes()).await.is_err() {
            break;
        }
    }
    events.unsubscribe(&[id]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_lines_are_told_from_the_other_commands() {
        assert!(is_maintenance("maintenance\n"));
        assert!(is_maintenance("maintenance {\"op\":\"off\",\"target\":{\"scope\":\"director\"}}\n"));
        assert!(!is_maintenance("maintenances\n"));
        assert!(!is_maintenance("status\n"));
        assert_eq!(Command::parse("maintenance"), None, "not the daemon loop's");
        let answer = answer_maintenance("maintenance {\"op\":\"dance\"}", &Events::default());
        assert!(answer.starts_with("error: invalid maintenance request: unknown variant `dance`"), "{answer}");
    }
}
