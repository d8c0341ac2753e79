//! Inputs that `cargo fuzz` (fuzz/, target `parse`) found or that exercise the preprocessor's
//! corners: whatever the bytes, `parse_str` must return, without panicking, in bounded time
//! and memory. Each case is the minimised reproducer, inline; see fuzz/README.md.
//!
//! Cases that abort the process (stack overflow) or run away (exponential expansion) run in a
//! child process, so they fail alone and are killed at the time budget: the parent test
//! re-runs this test binary on an `#[ignore]`d twin named `<parent>_child`.

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Long enough for a debug build on a slow, busy machine: the inputs here are a few lines each,
/// but `nested_lists_product` expands to the 1,000,000-line cap, 5 s in a debug build alone.
const BUDGET: Duration = Duration::from_secs(30);

/// Parses `bytes` as the fuzz target does and renders every diagnostic; fails on a panic
/// (re-raised with its own message) or when parsing takes longer than `BUDGET`.
fn parses(bytes: &'static [u8]) -> usize {
    let (tx, rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        let text = String::from_utf8_lossy(bytes);
        let opts = vigil_config::Options { config_id: "lab".into(), random_seed: 1 };
        let parsed = vigil_config::parse_str("fuzz.conf", &text, &opts, None);
        let rendered: usize = parsed.diagnostics.iter().map(|d| d.to_string().len()).sum();
        for line in text.lines() {
            let _ = vigil_config::lexer::tokenize(vigil_config::lexer::strip_comment(line));
        }
        let _ = tx.send(parsed.diagnostics.len());
        rendered
    });
    match rx.recv_timeout(BUDGET) {
        Ok(n) => {
            let _ = worker.join();
            n
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(_) => unreachable!("the worker sends before it returns"),
        },
        // The worker is left running; the test process ends with the other tests.
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("parse_str did not return within {BUDGET:?}"),
    }
}

/// Runs the ignored test `child` in a child process of this test binary; fails when it fails,
/// aborts (a stack overflow) or is still running after twice `BUDGET` (then it is killed).
fn passes_in_child(child: &str) {
    let exe = std::env::current_exe().expect("test binary path");
    let mut proc = Command::new(exe)
        .args(["--exact", child, "--ignored", "--test-threads=1", "--nocapture"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the test binary");
    let start = Instant::now();
    loop {
        if let Some(status) = proc.try_wait().expect("wait for the child") {
            assert!(status.success(), "{child}: parse_str failed in the child process ({status})");
            return;
        }
        if start.elapsed() > 2 * BUDGET {
            let _ = proc.kill();
            let _ = proc.wait();
            panic!("{child}: parse_str still running after {:?}; killed", 2 * BUDGET);
        }
        thread::sleep(Duration::from_millis(50));
    }
}

// ---- Found by the fuzzer -------------------------------------------------------------------

/// `${_RANDOM MIN MAX}` with MAX = u64::MAX: `max - min + 1` overflowed (a panic with debug
/// assertions, `% 0` in release). source.rs, `Reader::lookup`, `_RANDOM` arm; fixed in 1c02b7b.
#[test]
fn random_range_full_u64() {
    parses(b"${_RANDOM 0 18446744073709551615}");
}

/// A `~SEQ` expansion that opens a block on each of its lines nests 200000 blocks deep: the
/// statement tree is dropped recursively (`drop_in_place::<tree::Block>`, from
/// `source::Reader::apply_ready`) and overflows the stack, which aborts the process.
/// Fixed in 18d3684 (nesting depth cap).
#[test]
fn deep_nesting_from_sequence() {
    passes_in_child("deep_nesting_from_sequence_child");
}

#[test]
#[ignore = "run by deep_nesting_from_sequence in a child process"]
fn deep_nesting_from_sequence_child() {
    parses(b"~SEQ(A,200000) a {\n");
}

/// A multi-line definition whose lines refer to itself: every pass turns each line into two,
/// down to the depth limit (32), so 2^33 lines or `expansion-depth` diagnostics are made
/// (the depth error path does not count towards `MAX_EXPANDED_LINES`). Times out, then runs
/// out of memory. source.rs, `Reader::process` (substitute / expansion-depth). Fixed in 18d3684.
#[test]
fn self_referencing_multiline_definition() {
    passes_in_child("self_referencing_multiline_definition_child");
}

#[test]
#[ignore = "run by self_referencing_multiline_definition in a child process"]
fn self_referencing_multiline_definition_child() {
    parses(b"$A=\\\n$A \\\n$A\n$A\n");
}

/// Mutually referring multi-line definitions (`$RS` inside `$RS_NUM` inside `$RS`): minimised
/// with `cargo fuzz tmin` from run 2's `timeout-e93031fe…`. After 18d3684 it still ran up to
/// the processed-lines cap (0.5 s for 71 bytes in release, over 10 s under ASan); since
/// 5744b02 the cycle is cut at once.
#[test]
fn mutually_referring_multiline_definitions() {
    passes_in_child("mutually_referring_multiline_definitions_child");
}

#[test]
#[ignore = "run by mutually_referring_multiline_definitions in a child process"]
fn mutually_referring_multiline_definitions_child() {
    parses(b")\n$RS= \\\nr .${RS_NUM} \xbe\xbe\xbe\xbe\xbe\xbe\n  $RS_NUM=$RS \\\n $RS \\\n alpha\n    $RS $VS\n");
}

// ---- Found by reading the code while setting up the fuzzer ---------------------------------

/// Seven nested `~LST`s of ten values each: 10^7 runs. After 18d3684 each run past the line
/// cap returned early, but the loops still made every call (3.8 s in release, over 10 s under
/// ASan); since 5744b02 they stop at the cap: 1,000,000 lines, 0.43 s in release.
#[test]
fn nested_lists_product() {
    passes_in_child("nested_lists_product_child");
}

#[test]
#[ignore = "run by nested_lists_product in a child process"]
fn nested_lists_product_child() {
    parses(b"~LST(A,1,2,3,4,5,6,7,8,9,10) ~LST(B,1,2,3,4,5,6,7,8,9,10) ~LST(C,1,2,3,4,5,6,7,8,9,10) ~LST(D,1,2,3,4,5,6,7,8,9,10) ~LST(E,1,2,3,4,5,6,7,8,9,10) ~LST(F,1,2,3,4,5,6,7,8,9,10) ~LST(G,1,2,3,4,5,6,7,8,9,10) x\n");
}

/// `~SEQ` bounds whose difference overflows i64: `(end - start) / step + 1` in
/// `SeqSpec::values` panics with debug assertions (and wraps to no lines, silently, in release).
/// Fixed in 18d3684.
#[test]
fn sequence_bounds_overflow() {
    parses(b"~SEQ(A,-9223372036854775807,9223372036854775807) x\n");
}

/// A one-line self reference used twice doubles the line on every pass down to the depth
/// limit: a 2^32-copy line (16 GiB). source.rs, `Reader::substitute`. Fixed in 18d3684.
#[test]
fn self_reference_doubling() {
    passes_in_child("self_reference_doubling_child");
}

#[test]
#[ignore = "run by self_reference_doubling in a child process"]
fn self_reference_doubling_child() {
    parses(b"$A=${A}${A}\n${A}\n");
}

/// Just under the 4,000,000-line expansion cap: legal, but 13 s in a release build (and a
/// libFuzzer timeout); the cap was too high to keep `vigild -t` responsive. Fixed in 18d3684.
#[test]
fn sequence_near_line_cap() {
    passes_in_child("sequence_near_line_cap_child");
}

#[test]
#[ignore = "run by sequence_near_line_cap in a child process"]
fn sequence_near_line_cap_child() {
    parses(b"~SEQ(A,3999999) x\n");
}

// ---- Tricky handmade seeds (fuzz/seeds/parse/hand-*.conf) ----------------------------------

#[test]
fn unterminated_quotes() {
    let n = parses(
        b"global_defs {\n  notification_email_from \"ops@example.com\n  router_id LVS_DEVEL\n}\nvrrp_script chk {\n  script '/bin/true\n}\n",
    );
    assert!(n >= 2, "both unterminated quotes are reported");
}

#[test]
fn broken_sequences_and_lists() {
    parses(
        b"~SEQ(\n~SEQ(A\n~SEQ(A,\n~SEQ(A, 1, 0, 5) x ${A}\n~SEQx(B, 0xff) y ${B}\n~SEQ(A,-9,9) ~SEQ(B,3) ip 10.${A}.${B}.1\n~LST({X,Y},{1,2},{3}) z\n~LST(\n",
    );
}

#[test]
fn broken_references() {
    parses(
        b"${\n${}\n${A\n$A=${\n${ _RANDOM 1 5}\n${_RANDOM 5 1}\nx ${_PWD} ${_INSTANCE} ${_HASH}${_BANG}\n$\n$$\n$=1\n",
    );
}

#[test]
fn self_references() {
    parses(b"$A=${A}\n${A}\n$B=$B x\n$B\n$C=\\\n$C \\\n\n$C\n");
}

#[test]
fn deeply_nested_braces() {
    let mut text = String::from("vrrp_instance VI {");
    text.push_str(&"{".repeat(300));
    text.push_str(" priority 100 ");
    text.push_str(&"}".repeat(150));
    text.push('\n');
    parses(Box::leak(text.into_bytes().into_boxed_slice()));
}

#[test]
fn very_deeply_nested_braces() {
    // The tree is built and dropped recursively: a stack overflow would abort the test binary.
    parses(Box::leak("{".repeat(4096).into_bytes().into_boxed_slice()));
    parses(Box::leak("a {\n".repeat(4096).into_bytes().into_boxed_slice()));
}

#[test]
fn conditionals() {
    parses(b"@lab vrrp_instance VI_1 {\n@^lab state MASTER\n@ x\n@^\n@lab @lab @^other priority 1\n}\n");
}

#[test]
fn garbage_includes() {
    parses(b"include\ninclude \"\ninclude [\ninclude /nonexistent/**/x*\nincludea ../*.none\n");
}

#[test]
fn escapes_crlf_and_invalid_utf8() {
    parses(b"vrrp_instance VI_1 {\r\n  virtual_ipaddress {\r\n    10.0.0.1/33 dev \xff\xfe\r\n  }\r\n  \"a\\x4142\\777\\c\"\r\n}\n");
}

#[test]
fn lone_backslash_escapes() {
    parses(b"a \"\\\nb '\\\nc \"\\x\" \"\\c\" '\\777' \"\\xffffffffffff\"\n");
}
