//! keepalived's log lines and alert texts for checker events (the wording of keepalived
//! 2.2's check_*.c), so that log watchers keep working.

use crate::plan::{CheckSpec, Name, ProbeKind, ServerSpec};
use crate::verdict::{hex, Failure};

/// The line for one failed attempt.
/// `vs_name` is the name of the server's virtual server ([`Plan::vs_name`](crate::Plan::vs_name)).
pub fn failure_line(spec: &CheckSpec, server: &ServerSpec, vs_name: &str, failure: &Failure) -> String {
    let name = spec.name(server);
    match (&spec.kind, failure) {
        (ProbeKind::Tcp(_), Failure::ConnectTimeout) => format!("TCP connection to {name} timeout."),
        (ProbeKind::Tcp(_), _) => format!("TCP connection to {name} failed."),
        (ProbeKind::Http(_), f) => http_failure(name, f),
        (ProbeKind::Misc(m), Failure::ScriptTimeout) => {
            format!("Misc check for [{} VS {}] by [{}] timed out.", server.name, vs_name, m.argv.join(" "))
        }
        (ProbeKind::Misc(m), f) => {
            format!("Misc check for [{} VS {}] by [{}] failed ({f}).", server.name, vs_name, m.argv.join(" "))
        }
        (ProbeKind::Smtp(_), f) => match f {
            Failure::Banner(_) => format!("Bad greeting banner from server {name}"),
            Failure::Helo(_) => format!("Bad HELO response from server {name}"),
            Failure::ConnectTimeout => format!("Connection timeout to server {name}"),
            Failure::Refused | Failure::Unreachable(_) => format!("Error connecting to server {name}"),
            Failure::Timeout => format!("Read timeout from server {name}"),
            _ => format!("Read failure from server {name}"),
        },
        (ProbeKind::Dns(_), f) => format!("DNS_CHECK ({name}) {f}"),
        (ProbeKind::Udp(_), Failure::ReplyMismatch) => format!("UDP check to {name} reply data mismatch."),
        (ProbeKind::Udp(_), f) => format!("UDP connection to {name} failed ({f})."),
        (ProbeKind::Ping(_), _) => format!("ICMP connection to {name} of {} failed.", vs_name),
        (ProbeKind::File(f), failure) => format!("FILE_CHECK on {name}: {} {failure}", f.path),
        (ProbeKind::Bfd(bfd), _) => bfd_line(bfd, server, false),
    }
}

fn http_failure(name: Name, f: &Failure) -> String {
    match f {
        Failure::ConnectTimeout => format!("Timeout connecting server {name}."),
        Failure::Refused | Failure::Unreachable(_) => format!("Error connecting server {name}."),
        Failure::Timeout => format!("Timeout HTTP read server {name}."),
        Failure::Tls(_) => format!("SSL handshake/communication error connecting to server {name}."),
        Failure::NoData => format!("Read, no data received from server {name}."),
        Failure::Status { url, status } => {
            format!("HTTP status code error to {name} url({url}), status_code [{status}].")
        }
        Failure::Digest { url, got } => format!("MD5 digest error to {name} url[{url}], MD5SUM [{}].", hex(got)),
        Failure::Regex { url, .. } => format!("Regex match failed to {name} url({url})."),
        other => format!("Read error with server {name}: {other}"),
    }
}

/// check_bfd.c's one line for a BFD_CHECK taking its session's state.
fn bfd_line(bfd: &str, server: &ServerSpec, up: bool) -> String {
    format!("BFD check of [{bfd}] RS({}) is {}", server.name, if up { "UP" } else { "DOWN" })
}

/// The line when a checker is declared down.
pub fn down_line(spec: &CheckSpec, server: &ServerSpec, vs_name: &str, retries: u32) -> String {
    let tail = if retries > 0 { format!(" failed after {retries} retries.") } else { " failed.".into() };
    match &spec.kind {
        ProbeKind::Http(_) => format!("HTTP_CHECK on service {}{tail}", spec.name(server)),
        ProbeKind::Ping(_) => format!("ICMP CHECK on service {} of {}{tail}", spec.name(server), vs_name),
        ProbeKind::Misc(m) => {
            format!("Misc check for [{} VS {}] by [{}]{tail}", server.name, vs_name, m.argv.join(" "))
        }
        ProbeKind::Bfd(bfd) => bfd_line(bfd, server, false),
        kind => format!("{} on service {}{tail}", kind.keyword(), spec.name(server)),
    }
}

/// The line when a checker comes up (or first succeeds).
pub fn up_line(spec: &CheckSpec, server: &ServerSpec, vs_name: &str) -> String {
    let name = spec.name(server);
    match &spec.kind {
        ProbeKind::Tcp(_) => format!("TCP connection to {name} success."),
        ProbeKind::Http(_) => format!("Remote Web server {name} succeed on service."),
        ProbeKind::Misc(m) => {
            format!("Misc check for [{} VS {}] by [{}] succeeded.", server.name, vs_name, m.argv.join(" "))
        }
        ProbeKind::Smtp(_) => format!("Remote SMTP server {name} succeed on service."),
        ProbeKind::Dns(_) => format!("DNS_CHECK ({name}) succeed on service."),
        ProbeKind::Udp(_) => format!("UDP connection to {name} success."),
        ProbeKind::Ping(_) => format!("ICMP connection to {name} of {} success.", vs_name),
        ProbeKind::File(f) => format!("FILE_CHECK on {name}: {} OK.", f.path),
        ProbeKind::Bfd(bfd) => bfd_line(bfd, server, true),
    }
}

/// The body of the alert mail for a checker going up or down.
pub fn alert_body(kind: &ProbeKind, up: bool) -> String {
    let (ok, failed) = match kind {
        ProbeKind::Tcp(_) => ("=> TCP CHECK succeed on service <=", "=> TCP CHECK failed on service <="),
        ProbeKind::Http(_) => ("=> CHECK succeed on service <=", "=> CHECK failed on service : HTTP request failed <="),
        ProbeKind::Misc(_) => ("=> MISC CHECK succeed on service <=", "=> MISC CHECK failed on service <="),
        ProbeKind::Smtp(_) => ("=> CHECK succeed on service <=", "=> CHECK failed on service : SMTP_CHECK <="),
        ProbeKind::Dns(_) => ("=> DNS_CHECK: succeed on service <=", "=> DNS_CHECK: failed on service <="),
        ProbeKind::Udp(_) => ("=> UDP CHECK succeed on service <=", "=> UDP CHECK failed on service <="),
        ProbeKind::Ping(_) => ("=> ICMP CHECK succeed on service <=", "=> ICMP CHECK failed on service <="),
        ProbeKind::File(_) => ("=> FILE CHECK succeed on service <=", "=> FILE CHECK failed on service <="),
        ProbeKind::Bfd(bfd) => {
            return format!("=> BFD CHECK {bfd} {} on service <=", if up { "succeeded" } else { "failed" });
        }
    };
    if up { ok } else { failed }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{plan, CheckSpec};

    const VS: &str = "[10.0.0.1]:tcp:80";

    fn spec_and_server(checker: &str) -> (CheckSpec, ServerSpec) {
        let text =
            format!("virtual_server 10.0.0.1 80 {{\n protocol TCP\n real_server 10.0.0.7 80 {{\n {checker}\n }}\n}}\n");
        let parsed = vigil_config::parse_str("t.conf", &text, &vigil_config::Options::default(), None);
        let p = plan(&parsed.config);
        assert_eq!(p.vs_name(&p.servers[0]), VS);
        (p.checks[0].clone(), p.servers[0].clone())
    }

    #[test]
    fn lines() {
        let (tcp, rs) = spec_and_server("TCP_CHECK { }");
        assert_eq!(failure_line(&tcp, &rs, VS, &Failure::Refused), "TCP connection to [10.0.0.7]:tcp:80 failed.");
        assert_eq!(
            failure_line(&tcp, &rs, VS, &Failure::ConnectTimeout),
            "TCP connection to [10.0.0.7]:tcp:80 timeout."
        );
        assert_eq!(up_line(&tcp, &rs, VS), "TCP connection to [10.0.0.7]:tcp:80 success.");
        assert_eq!(down_line(&tcp, &rs, VS, 1), "TCP_CHECK on service [10.0.0.7]:tcp:80 failed after 1 retries.");
        assert_eq!(down_line(&tcp, &rs, VS, 0), "TCP_CHECK on service [10.0.0.7]:tcp:80 failed.");
        let (http, rs) = spec_and_server("HTTP_GET { url { path / } }");
        assert_eq!(
            failure_line(&http, &rs, VS, &Failure::Status { url: "/".into(), status: 500 }),
            "HTTP status code error to [10.0.0.7]:tcp:80 url(/), status_code [500]."
        );
        assert_eq!(
            failure_line(&http, &rs, VS, &Failure::Digest { url: "/".into(), got: [0xab; 16] }),
            "MD5 digest error to [10.0.0.7]:tcp:80 url[/], MD5SUM [abababababababababababababababab]."
        );
        assert_eq!(
            failure_line(&http, &rs, VS, &Failure::ConnectTimeout),
            "Timeout connecting server [10.0.0.7]:tcp:80."
        );
        let (misc, rs) = spec_and_server("MISC_CHECK { misc_path \"/bin/check a\" }");
        assert_eq!(
            failure_line(&misc, &rs, VS, &Failure::Exit(3)),
            "Misc check for [[10.0.0.7]:tcp:80 VS [10.0.0.1]:tcp:80] by [/bin/check a] failed (exited with status 3)."
        );
        assert_eq!(alert_body(&misc.kind, false), "=> MISC CHECK failed on service <=");
    }

    #[test]
    fn bfd_lines() {
        let text = "bfd_instance rs1 {\n neighbor_ip 10.0.0.7\n}\nvirtual_server 10.0.0.1 53 {\n protocol UDP\n real_server 10.0.0.7 53 {\n BFD_CHECK {\n name rs1\n }\n }\n}\n";
        let parsed = vigil_config::parse_str("t.conf", text, &vigil_config::Options::default(), None);
        let p = plan(&parsed.config);
        let (bfd, rs) = (&p.checks[0], &p.servers[0]);
        let vs = p.vs_name(rs);
        assert_eq!(up_line(bfd, rs, vs), "BFD check of [rs1] RS([10.0.0.7]:udp:53) is UP");
        assert_eq!(down_line(bfd, rs, vs, 0), "BFD check of [rs1] RS([10.0.0.7]:udp:53) is DOWN");
        assert_eq!(failure_line(bfd, rs, vs, &Failure::BfdDown("rs1".into())), down_line(bfd, rs, vs, 0));
        assert_eq!(alert_body(&bfd.kind, true), "=> BFD CHECK rs1 succeeded on service <=");
        assert_eq!(alert_body(&bfd.kind, false), "=> BFD CHECK rs1 failed on service <=");
    }
}
