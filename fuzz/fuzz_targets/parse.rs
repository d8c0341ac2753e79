//! Fuzz target: the keepalived.conf preprocessor (includes, `@ID`, `$NAME` definitions,
//! `~SEQ`/`~LST`), the lexer, the statement tree, the keyword tables and the lints must never
//! panic, hang or exhaust memory, whatever the input.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// Small files that relative, slash-free `include` patterns (`*`, `*.inc`, `sub/*`) can reach.
const SANDBOX_FILES: &[(&str, &str)] = &[
    ("a.inc", "vrrp_instance INC {\n  interface eth0\n  virtual_router_id 7\n  priority 100\n}\n"),
    ("vips.inc", "192.0.2.1/24\n192.0.2.2/24 dev eth0\n"),
    ("vars.inc", "$IF=eth0\n$VIP=192.0.2.9/24\n$RS=\\\nreal_server 192.0.2.${N} 80 { \\\n weight 1 \\\n}\n"),
    ("loop.inc", "include loop.inc\n"),
    ("nested.inc", "include a.inc\nincludea vips.inc\n"),
    ("sub/b.inc", "virtual_server 192.0.2.80 80 {\n  real_server 10.0.0.1 80 {\n    TCP_CHECK {\n    }\n  }\n}\n"),
];

/// A private directory holding only `SANDBOX_FILES`, made once per process. The input is
/// parsed as `<sandbox>/fuzz.conf`, so relative includes resolve there rather than in the
/// current directory (where `include target/**` would read the fuzzer's own build output);
/// the current directory is left alone because libFuzzer writes the corpus relative to it.
fn sandbox_conf() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("vigil-fuzz-{}", std::process::id()));
        for (name, text) in SANDBOX_FILES {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().expect("sandbox file has a parent")).expect("sandbox dir");
            std::fs::write(&path, text).expect("sandbox file");
        }
        dir.join("fuzz.conf")
    })
}

/// Whether an `include` in `text` could name a path outside the sandbox: an absolute path or
/// a `..` component, written out or put together by substitution (`$A=/`, `${A}/x`,
/// `${A}./`, `${_PWD}/`). Conservative: any `/` not glued to a plain path character counts.
fn may_escape(text: &str) -> bool {
    if text.contains("..") || text.contains("./") || text.contains(".\\") {
        return true;
    }
    let mut prev: Option<char> = None;
    for c in text.chars() {
        if c == '/' {
            let glued = prev.is_some_and(|p| p.is_ascii_alphanumeric() || matches!(p, '_' | '-' | '*' | '?' | ']'));
            if !glued {
                return true;
            }
        }
        prev = Some(c);
    }
    false
}

fuzz_target!(|data: &[u8]| {
    let name = sandbox_conf().to_string_lossy();
    let mut text = String::from_utf8_lossy(data);
    // Neutralise includes that could leave the sandbox (`include /dev/zero`, `include /**`):
    // every other keyword and line still reaches the parser.
    if text.contains("include") && may_escape(&text) {
        text = text.replace("include", "inclu_e").into();
    }

    // The whole pipeline, as `vigild -t` runs it on a file.
    let opts = vigil_config::Options { config_id: "lab".into(), random_seed: 1 };
    let parsed = vigil_config::parse_str(&name, &text, &opts, None);
    let mut rendered = 0usize;
    for d in &parsed.diagnostics {
        rendered += d.to_string().len();
        rendered += d.span.to_string().len();
    }
    rendered += vigil_config::exit_code(&parsed.diagnostics, true) as usize;
    rendered += usize::from(parsed.has_errors());
    // Touch the typed model too (Debug walks every field).
    rendered += format!("{:?}", parsed.config).len();
    std::hint::black_box(rendered);

    // The lexer on its own, line by line, with and without comment stripping.
    for line in text.lines() {
        for l in [line, vigil_config::lexer::strip_comment(line)] {
            match vigil_config::lexer::tokenize(l) {
                Ok(tokens) => {
                    std::hint::black_box(tokens.len());
                }
                Err(e) => {
                    std::hint::black_box(e.to_string());
                }
            }
        }
    }
});
