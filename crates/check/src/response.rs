//! HTTP_GET / SSL_GET without I/O: the request keepalived sends and the verdict on what comes
//! back (status_code, digest, regex).
//!
//! keepalived hashes and matches the raw bytes that follow the header block, up to
//! Content-Length when the server gives one (check_http.c `http_process_response`), and genhash
//! prints the same sum. The body is therefore not de-chunked here either: a digest taken with
//! genhash matches whatever the server sends.

use std::net::SocketAddr;

use md5::{Digest, Md5};

use crate::plan::{HttpProtocol, UrlSpec};
use crate::verdict::{Failure, ProbeResult, Success};

/// The header block may not be longer than this.
pub const MAX_HEAD: usize = 16 * 1024;
/// How much of the body a regex sees.
pub const MAX_REGEX_BODY: usize = 1024 * 1024;

/// The Host header: the virtualhost, else the address and port (IPv6 in brackets, RFC 2732).
pub fn host_header(virtualhost: Option<&str>, addr: SocketAddr) -> String {
    match virtualhost {
        Some(v) => v.to_string(),
        None => match addr {
            SocketAddr::V4(a) => format!("{}:{}", a.ip(), a.port()),
            SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
        },
    }
}

/// keepalived's request: `GET path HTTP/1.x`, its User-Agent, `Connection: close` for 1.0C
/// and 1.1, and Host.
pub fn request(path: &str, host: &str, protocol: HttpProtocol) -> String {
    let (minor, close) = match protocol {
        HttpProtocol::Http10 => (0, ""),
        HttpProtocol::Http10Close => (0, "Connection: close\r\n"),
        HttpProtocol::Http11 => (1, "Connection: close\r\n"),
    };
    format!("GET {path} HTTP/1.{minor}\r\nUser-Agent: KeepAliveClient\r\n{close}Host: {host}\r\n\r\n")
}

/// Whether more bytes are wanted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    More,
    /// Content-Length bytes of body are in: no need to wait for the end of the stream.
    Complete,
}

/// Takes a response as it arrives and judges it against a url block.
pub struct ResponseReader<'a> {
    url: &'a UrlSpec,
    head: Vec<u8>,
    status: Option<u16>,
    content_length: Option<u64>,
    received: u64,
    md5: Option<Md5>,
    body: Vec<u8>,
}

impl<'a> ResponseReader<'a> {
    pub fn new(url: &'a UrlSpec) -> Self {
        ResponseReader {
            url,
            head: Vec::new(),
            status: None,
            content_length: None,
            received: 0,
            md5: url.digest.map(|_| Md5::new()),
            body: Vec::new(),
        }
    }

    /// The status, once the header block is in.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// Takes the next bytes; fails early on a bad status or an endless header block.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Progress, Failure> {
        if self.status.is_some() {
            return Ok(self.body_bytes(bytes));
        }
        let searched = self.head.len().saturating_sub(3);
        self.head.extend_from_slice(bytes);
        let Some((end, body_start)) = header_end(&self.head, searched) else {
            if self.head.len() > MAX_HEAD {
                return Err(Failure::NoData);
            }
            return Ok(Progress::More);
        };
        let head = std::mem::take(&mut self.head);
        let (status, content_length) = parse_head(&head[..end]);
        self.status = Some(status);
        self.content_length = content_length;
        if !self.url.status.iter().any(|(lo, hi)| (*lo..=*hi).contains(&status)) {
            return Err(Failure::Status { url: self.url.path.clone(), status });
        }
        Ok(self.body_bytes(&head[body_start..]))
    }

    fn body_bytes(&mut self, bytes: &[u8]) -> Progress {
        let left = self.content_length.map_or(u64::MAX, |cl| cl.saturating_sub(self.received));
        let take = usize::try_from(left).map_or(bytes.len(), |l| l.min(bytes.len()));
        let bytes = &bytes[..take];
        self.received += take as u64;
        if let Some(md5) = &mut self.md5 {
            md5.update(bytes);
        }
        if self.url.regex.is_some() {
            let room = MAX_REGEX_BODY.saturating_sub(self.body.len());
            self.body.extend_from_slice(&bytes[..room.min(bytes.len())]);
        }
        match self.content_length {
            Some(cl) if self.received >= cl => Progress::Complete,
            _ => Progress::More,
        }
    }

    /// The verdict once the stream ended (or Content-Length was reached).
    pub fn finish(self) -> ProbeResult {
        if self.status.is_none() {
            return Err(Failure::NoData);
        }
        if let (Some(want), Some(md5)) = (self.url.digest, self.md5) {
            let got: [u8; 16] = md5.finalize().into();
            if got != want {
                return Err(Failure::Digest { url: self.url.path.clone(), got });
            }
        }
        if let Some(re) = &self.url.regex {
            if re.is_match(&self.body) == self.url.regex_no_match {
                return Err(Failure::Regex { url: self.url.path.clone(), no_match: self.url.regex_no_match });
            }
        }
        Ok(Success::PLAIN)
    }
}

/// Where the header block ends (`\r\n\r\n`, or `\n\n` from sloppy servers), searching from
/// `from`: the end of the headers and the start of the body.
fn header_end(buf: &[u8], from: usize) -> Option<(usize, usize)> {
    (from..buf.len()).find_map(|i| {
        if buf[i..].starts_with(b"\r\n\r\n") {
            Some((i, i + 4))
        } else if buf[i..].starts_with(b"\n\n") {
            Some((i, i + 2))
        } else {
            None
        }
    })
}

/// The status (0 when the status line has none, which no status_code accepts) and
/// Content-Length.
fn parse_head(head: &[u8]) -> (u16, Option<u64>) {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.lines();
    let status = lines
        .next()
        .filter(|l| l.starts_with("HTTP/"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let content_length = lines.find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim().eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok()).flatten()
    });
    (status, content_length)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn url(status: Vec<(u16, u16)>, digest: Option<[u8; 16]>, regex: Option<&str>, no_match: bool) -> UrlSpec {
        UrlSpec {
            path: "/".into(),
            request: String::new(),
            virtualhost: None,
            status,
            digest,
            regex: regex.map(|r| Arc::new(regex::bytes::Regex::new(r).expect("test regex"))),
            regex_no_match: no_match,
        }
    }

    /// MD5 of "hello" (`printf hello | md5sum`).
    const HELLO_MD5: [u8; 16] =
        [0x5d, 0x41, 0x40, 0x2a, 0xbc, 0x4b, 0x2a, 0x76, 0xb9, 0x71, 0x9d, 0x91, 0x10, 0x17, 0xc5, 0x92];

    /// Feeds the response in pieces of `chunk` bytes.
    fn judge(u: &UrlSpec, response: &[u8], chunk: usize) -> ProbeResult {
        let mut r = ResponseReader::new(u);
        for piece in response.chunks(chunk) {
            if r.feed(piece)? == Progress::Complete {
                break;
            }
        }
        r.finish()
    }

    #[test]
    fn requests_as_keepalived_sends_them() {
        let addr: SocketAddr = "10.0.0.7:8080".parse().expect("literal");
        let v6: SocketAddr = "[2001:db8::7]:80".parse().expect("literal");
        assert_eq!(host_header(None, addr), "10.0.0.7:8080");
        assert_eq!(host_header(None, v6), "[2001:db8::7]:80");
        assert_eq!(host_header(Some("www.example"), addr), "www.example");
        assert_eq!(
            request("/health", "www.example", HttpProtocol::Http10),
            "GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: www.example\r\n\r\n"
        );
        assert_eq!(
            request("/", "h", HttpProtocol::Http10Close),
            "GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: h\r\n\r\n"
        );
        assert_eq!(
            request("/", "h", HttpProtocol::Http11),
            "GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: h\r\n\r\n"
        );
    }

    #[test]
    fn verdicts() {
        let ok = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello";
        let cases: Vec<(&str, UrlSpec, &[u8], ProbeResult)> = vec![
            ("default 2xx", url(vec![(200, 299)], None, None, false), ok, Ok(Success::PLAIN)),
            (
                "status not in the list",
                url(vec![(200, 200), (301, 302)], None, None, false),
                b"HTTP/1.1 500 Internal Server Error\r\n\r\n",
                Err(Failure::Status { url: "/".into(), status: 500 }),
            ),
            (
                "status range",
                url(vec![(301, 302)], None, None, false),
                b"HTTP/1.1 302 Found\r\n\r\n",
                Ok(Success::PLAIN),
            ),
            ("digest of the raw body", url(vec![(200, 299)], Some(HELLO_MD5), None, false), ok, Ok(Success::PLAIN)),
            (
                "wrong digest",
                url(vec![(200, 299)], Some([0; 16]), None, false),
                ok,
                Err(Failure::Digest { url: "/".into(), got: HELLO_MD5 }),
            ),
            (
                "digest stops at Content-Length",
                url(vec![(200, 299)], Some(HELLO_MD5), None, false),
                b"HTTP/1.0 200 OK\r\ncontent-length: 5\r\n\r\nhelloTRAILING",
                Ok(Success::PLAIN),
            ),
            ("regex", url(vec![(200, 299)], None, Some("l+o$"), false), ok, Ok(Success::PLAIN)),
            (
                "regex miss",
                url(vec![(200, 299)], None, Some("bye"), false),
                ok,
                Err(Failure::Regex { url: "/".into(), no_match: false }),
            ),
            ("regex_no_match passes on a miss", url(vec![(200, 299)], None, Some("bye"), true), ok, Ok(Success::PLAIN)),
            (
                "regex_no_match fails on a match",
                url(vec![(200, 299)], None, Some("hel"), true),
                ok,
                Err(Failure::Regex { url: "/".into(), no_match: true }),
            ),
            ("nothing", url(vec![(200, 299)], None, None, false), b"", Err(Failure::NoData)),
            (
                "no end of headers",
                url(vec![(200, 299)], None, None, false),
                b"HTTP/1.0 200 OK\r\n",
                Err(Failure::NoData),
            ),
            (
                "not HTTP",
                url(vec![(200, 299)], None, None, false),
                b"SSH-2.0-OpenSSH\n\n",
                Err(Failure::Status { url: "/".into(), status: 0 }),
            ),
            (
                "bare newlines",
                url(vec![(200, 299)], Some(HELLO_MD5), None, false),
                b"HTTP/1.0 204 No\n\nhello",
                Ok(Success::PLAIN),
            ),
        ];
        for (name, u, response, want) in cases {
            for chunk in [1, 3, 1000] {
                assert_eq!(judge(&u, response, chunk), want, "{name}, pieces of {chunk}");
            }
        }
    }

    #[test]
    fn content_length_completes_early() {
        let u = url(vec![(200, 299)], None, None, false);
        let mut r = ResponseReader::new(&u);
        assert_eq!(r.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab"), Ok(Progress::More));
        assert_eq!(r.status(), Some(200));
        assert_eq!(r.feed(b"cd"), Ok(Progress::Complete));
    }

    #[test]
    fn endless_headers_fail() {
        let u = url(vec![(200, 299)], None, None, false);
        let mut r = ResponseReader::new(&u);
        let junk = vec![b'x'; MAX_HEAD + 1];
        assert_eq!(r.feed(&junk), Err(Failure::NoData));
    }
}
