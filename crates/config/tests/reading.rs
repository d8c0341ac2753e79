//! A file is read a piece at a time: what comes out must not depend on where the pieces end.

use std::path::PathBuf;

use vigil_config::{parse_file, parse_str, Options, Parsed};

/// A scratch directory of this test, removed on drop, also when the test panics.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = tempfile::Builder::new().prefix(&format!("vigil-reading-{name}-")).tempdir();
        Scratch(dir.expect("scratch directory"))
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, bytes).expect("scratch file");
        path
    }
}

/// The diagnostics as "line code message" lines, without the file name.
fn lines_of(parsed: &Parsed) -> Vec<String> {
    parsed.diagnostics.iter().map(|d| format!("{}:{} {} {}", d.span.line, d.span.col, d.code, d.message)).collect()
}

/// About 300 KiB: real servers across several 64 KiB pieces, a comment line longer than a
/// piece, quotes and comment characters, CRLF line ends, a byte that is not UTF-8, and a
/// misspelled keyword near the end.
fn big_config() -> (Vec<u8>, u32) {
    let mut text = b"global_defs {\r\n  router_id \"big # one\" ! comment\r\n}\r\n".to_vec();
    text.extend_from_slice(b"# a long comment ");
    text.extend(std::iter::repeat_n(b'x', 70_000));
    text.extend_from_slice(b" \xff\xfe not UTF-8\n");
    for vs in 0..60 {
        text.extend_from_slice(format!("virtual_server 192.0.2.10 {} {{\n  protocol TCP\n", 10_000 + vs).as_bytes());
        for rs in 1..=40 {
            text.extend_from_slice(
                format!("  real_server 198.51.100.{rs} 80 {{ # rs {rs}\n    weight {rs}\n    TCP_CHECK {{\n      connect_timeout 3\n    }}\n  }}\n")
                    .as_bytes(),
            );
        }
        text.extend_from_slice(b"}\n");
    }
    let line = 1 + text.iter().filter(|&&b| b == b'\n').count() as u32;
    text.extend_from_slice(b"virtual_server 192.0.2.10 80 {\n  lb_algoo rr\n}\n");
    (text, line + 1)
}

#[test]
fn a_file_read_in_pieces_reads_as_the_whole_text() {
    let scratch = Scratch::new("pieces");
    let (bytes, misspelled_line) = big_config();
    assert!(bytes.len() > 4 * 64 * 1024, "the file spans several pieces");
    let path = scratch.write("keepalived.conf", &bytes);
    let opts = Options::default();
    let from_file = parse_file(&path, &opts, None).expect("readable");
    let from_text = parse_str("keepalived.conf", &String::from_utf8_lossy(&bytes), &opts, None);

    assert_eq!(lines_of(&from_file), lines_of(&from_text));
    assert_eq!(from_file.config.virtual_servers.len(), 61);
    let servers: usize = from_file.config.virtual_servers.iter().map(|vs| vs.real_servers.len()).sum();
    assert_eq!(servers, 60 * 40);
    let unknown = from_file.diagnostics.iter().find(|d| d.code == "unknown-keyword").expect("lb_algoo reported");
    assert_eq!(unknown.span.line, misspelled_line);
    assert_eq!(from_file.config.global.router_id.as_deref(), Some("big # one"));
}

#[test]
fn included_files_keep_their_own_line_numbers() {
    let scratch = Scratch::new("include");
    let mut included = Vec::new();
    for i in 0..3000 {
        included.extend_from_slice(format!("! filler line {i} to pass a piece boundary of the reader\n").as_bytes());
    }
    included.extend_from_slice(b"virtual_server 192.0.2.10 80 {\n  delay_loopp 3\n}\n");
    scratch.write("services.conf", &included);
    let main =
        scratch.write("keepalived.conf", b"global_defs {\n  router_id r\n}\ninclude services.conf\nbogus_top 1\n");
    let parsed = parse_file(&main, &Options::default(), None).expect("readable");
    let found: Vec<(String, u32)> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.code == "unknown-keyword")
        .map(|d| (d.span.file.display().to_string(), d.span.line))
        .collect();
    let name = |p: &str| scratch.0.path().join(p).display().to_string();
    assert_eq!(found, [(name("keepalived.conf"), 5), (name("services.conf"), 3002)]);
}
