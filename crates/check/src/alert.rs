//! SMTP alert mails, as keepalived's smtp_alert sends them when a checker or a VRRP instance
//! or sync group changes state: to every `notification_email`, from
//! `notification_email_from`, through `smtp_server`, with the whole session bounded by
//! `smtp_connect_timeout`.
//!
//! Subjects and bodies are keepalived's: `[router_id] Realserver [10.0.0.7]:tcp:80 of virtual
//! server [10.0.0.1]:tcp:80 - DOWN` with the checker's line (`=> TCP CHECK failed on service
//! <=`); `[router_id] VRRP Instance VI_1 - Entering MASTER state` with `=> VRRP Instance is now
//! owning VRRP VIPs <=`; `[router_id] VRRP Group G1 - Entering MASTER state` with `=> All VRRP
//! group instances are now in MASTER state <=`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use tokio::io::BufReader;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::{timeout_at, Instant};

use crate::plan::AlertSettings;
use crate::probes::smtp::{read_reply, send, within};
use crate::verdict::Failure;

/// A mail to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub body: String,
}

/// Why an alert was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    /// The SMTP server could not be reached or timed out.
    #[error("SMTP connection ERROR to {server}: {reason}")]
    Connect { server: String, reason: Failure },
    /// The SMTP server refused a command.
    #[error("Error processing {command} cmd on SMTP server {server}. SMTP status code = {code}")]
    Refused { server: String, command: &'static str, code: u16 },
    /// The session broke off or ran out of time.
    #[error("SMTP session with {server} failed: {reason}")]
    Session { server: String, reason: Failure },
}

/// The mail for a real server's checker going up or down.
pub fn realserver_mail(router_id: &str, rs: &str, vs: &str, up: bool, detail: &str) -> Mail {
    let state = if up { "UP" } else { "DOWN" };
    Mail {
        subject: format!("[{router_id}] Realserver {rs} of virtual server {vs} - {state}"),
        body: detail.to_string(),
    }
}

/// The mail for a VRRP instance entering `state` (`MASTER`, `BACKUP` or `FAULT`).
pub fn vrrp_mail(router_id: &str, instance: &str, state: &str) -> Mail {
    let owning = if state == "MASTER" { "now" } else { "no longer" };
    Mail {
        subject: format!("[{router_id}] VRRP Instance {instance} - Entering {state} state"),
        body: format!("=> VRRP Instance is {owning} owning VRRP VIPs <="),
    }
}

/// The mail for every member of a sync group having entered `state`.
pub fn vrrp_group_mail(router_id: &str, group: &str, state: &str) -> Mail {
    Mail {
        subject: format!("[{router_id}] VRRP Group {group} - Entering {state} state"),
        body: format!("=> All VRRP group instances are now in {state} state <="),
    }
}

/// Alert mails being sent at once, and waiting at most; past that, alerts are dropped.
const ALERT_CONCURRENCY: usize = 4;
const ALERT_BACKLOG: usize = 256;

/// Sends alert mails in the background, a few at a time, each from a task of its own; does
/// nothing without `smtp_server` and `notification_email`.
#[derive(Clone)]
pub struct Alerter {
    settings: Option<Arc<AlertSettings>>,
    hostname: Arc<str>,
    sending: Arc<Semaphore>,
    backlog: Arc<AtomicUsize>,
}

impl Alerter {
    pub fn new(settings: Option<AlertSettings>, hostname: String) -> Alerter {
        Alerter {
            settings: settings.map(Arc::new),
            hostname: hostname.into(),
            sending: Arc::new(Semaphore::new(ALERT_CONCURRENCY)),
            backlog: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// `router_id`, or the host name as keepalived defaults it.
    pub fn router_id(&self) -> &str {
        self.settings.as_ref().and_then(|s| s.router_id.as_deref()).unwrap_or(&self.hostname)
    }

    /// Queues `mail`; must be called on a tokio runtime.
    pub fn send(&self, mail: Mail) {
        let Some(settings) = &self.settings else { return };
        if self.backlog.fetch_add(1, Ordering::Relaxed) >= ALERT_BACKLOG {
            self.backlog.fetch_sub(1, Ordering::Relaxed);
            tracing::warn!(subject = %mail.subject, "SMTP alert dropped: {ALERT_BACKLOG} alerts are waiting already");
            return;
        }
        let (settings, hostname) = (Arc::clone(settings), Arc::clone(&self.hostname));
        let (sending, backlog) = (Arc::clone(&self.sending), Arc::clone(&self.backlog));
        tokio::spawn(async move {
            if let Ok(_permit) = sending.acquire().await {
                match send_mail(&settings, &hostname, &mail).await {
                    Ok(()) => tracing::info!(subject = %mail.subject, "SMTP alert successfully sent."),
                    Err(e) => tracing::warn!(subject = %mail.subject, "{e}"),
                }
            }
            backlog.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// The message as sent after DATA: headers, a blank line, the body with lines starting with a
/// dot doubled (RFC 5321 4.5.2), and the final dot.
pub fn message(from: &str, to: &[String], mail: &Mail, date: &str) -> String {
    let mut m = format!(
        "Date: {date}\r\nFrom: {from}\r\nSubject: {}\r\nX-Mailer: Vigil\r\nTo: {}\r\n\r\n",
        mail.subject,
        to.join(", ")
    );
    for line in mail.body.lines() {
        if line.starts_with('.') {
            m.push('.');
        }
        m.push_str(line);
        m.push_str("\r\n");
    }
    m.push_str(".\r\n");
    m
}

/// RFC 5322 3.3 date, in UTC: `Tue, 03 Mar 2026 10:04:05 +0000`.
pub fn rfc5322_date(unix_seconds: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = unix_seconds / 86_400;
    let secs = unix_seconds % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}, {d:02} {} {y} {:02}:{:02}:{:02} +0000",
        DAYS[(days % 7) as usize],
        MONTHS[(m - 1) as usize],
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Year, month (1-12) and day of a count of days since 1970-01-01, by the proleptic
/// Gregorian calendar (400-year eras of 146097 days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// Sends a mail; `hostname` stands in for unset router_id, sender and HELO name, as
/// keepalived's defaults are the host name (and `keepalived@host` for the sender).
pub async fn send_mail(settings: &AlertSettings, hostname: &str, mail: &Mail) -> Result<(), AlertError> {
    let deadline = Instant::now() + settings.connect_timeout;
    let server = format!("[{}]:{}", settings.server, settings.port);
    let stream = match timeout_at(deadline, TcpStream::connect((settings.server.as_str(), settings.port))).await {
        Err(_) => Err(Failure::ConnectTimeout),
        Ok(Err(e)) => Err(Failure::Io(e.to_string())),
        Ok(Ok(s)) => Ok(s),
    }
    .map_err(|reason| AlertError::Connect { server: server.clone(), reason })?;
    let mut s = BufReader::new(stream);
    let session = |reason| AlertError::Session { server: server.clone(), reason };
    let from = settings.from.clone().unwrap_or_else(|| format!("keepalived@{hostname}"));
    let helo = settings.helo_name.as_deref().unwrap_or(hostname);
    // Each command and the code that accepts it (RFC 5321 4.3.2).
    let mut steps: Vec<(&'static str, String, u16)> = vec![
        ("HELO", format!("HELO {helo}\r\n"), 250),
        ("MAIL", format!("MAIL FROM:<{}>\r\n", bare_address(&from)), 250),
    ];
    for to in &settings.to {
        steps.push(("RCPT", format!("RCPT TO:<{}>\r\n", bare_address(to)), 250));
    }
    steps.push(("DATA", "DATA\r\n".into(), 354));
    #[allow(clippy::disallowed_methods)] // the Date header is wall-clock time
    let now = std::time::SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs();
    steps.push(("BODY", message(&from, &settings.to, mail, &rfc5322_date(now)), 250));
    let (code, _) = within(deadline, read_reply(&mut s)).await.map_err(session)?;
    if code != 220 {
        return Err(AlertError::Refused { server, command: "greeting", code });
    }
    for (command, line, want) in steps {
        within(deadline, send(&mut s, &line)).await.map_err(session)?;
        let (code, _) = within(deadline, read_reply(&mut s)).await.map_err(session)?;
        if code != want {
            return Err(AlertError::Refused { server, command, code });
        }
    }
    // The mail is accepted; QUIT is a courtesy.
    let _ = within(deadline, send(&mut s, "QUIT\r\n")).await;
    Ok(())
}

/// `Name <user@host>` → `user@host`.
fn bare_address(addr: &str) -> &str {
    match (addr.find('<'), addr.rfind('>')) {
        (Some(a), Some(b)) if a < b => &addr[a + 1..b],
        _ => addr.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_as_keepalived_writes_them() {
        let m = realserver_mail(
            "lb1",
            "[10.0.0.7]:tcp:80",
            "[10.0.0.1]:tcp:80",
            false,
            "=> TCP CHECK failed on service <=",
        );
        assert_eq!(m.subject, "[lb1] Realserver [10.0.0.7]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - DOWN");
        assert_eq!(m.body, "=> TCP CHECK failed on service <=");
    }

    #[test]
    fn vrrp_subjects_and_bodies_as_keepalived_writes_them() {
        let m = vrrp_mail("lb1", "VI_1", "MASTER");
        assert_eq!(m.subject, "[lb1] VRRP Instance VI_1 - Entering MASTER state");
        assert_eq!(m.body, "=> VRRP Instance is now owning VRRP VIPs <=");
        assert_eq!(vrrp_mail("lb1", "VI_1", "FAULT").body, "=> VRRP Instance is no longer owning VRRP VIPs <=");
        let g = vrrp_group_mail("lb1", "G1", "BACKUP");
        assert_eq!(g.subject, "[lb1] VRRP Group G1 - Entering BACKUP state");
        assert_eq!(g.body, "=> All VRRP group instances are now in BACKUP state <=");
    }

    #[test]
    fn message_layout() {
        let m = Mail { subject: "s".into(), body: "line\n.dot".into() };
        assert_eq!(
            message("a@x", &["b@y".into(), "c@z".into()], &m, "D"),
            "Date: D\r\nFrom: a@x\r\nSubject: s\r\nX-Mailer: Vigil\r\nTo: b@y, c@z\r\n\r\nline\r\n..dot\r\n.\r\n"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        // `date -u -d @951782400` and `date -u -d @1709210096`.
        assert_eq!(rfc5322_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
        assert_eq!(rfc5322_date(1_709_210_096), "Thu, 29 Feb 2024 12:34:56 +0000");
    }

    #[test]
    fn addresses() {
        assert_eq!(bare_address("Ops <ops@example.com>"), "ops@example.com");
        assert_eq!(bare_address(" ops@example.com "), "ops@example.com");
    }
}
