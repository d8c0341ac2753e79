//! UDP_CHECK's HEX_STR (`payload`, `require_reply`) read as keepalived.conf(5) describes it and
//! keepalived 2.2.7 `-t` judges it: the bytes, the X nibbles, and which strings are refused.

use vigil_config::model::{CheckKind, ReplyPattern};
use vigil_config::{exit_code, parse_str, Options};

/// What the UDP_CHECK holding `lines` reads as: its payload, its reply pattern, the codes of
/// its diagnostics (notes included), the column of the first error or warning, and the exit
/// code of `-t`.
struct Read {
    payload: Option<Vec<u8>>,
    reply: Option<ReplyPattern>,
    codes: Vec<&'static str>,
    column: Option<u32>,
    exit: i32,
}

fn read(lines: &str) -> Read {
    let text = format!(
        "virtual_server 10.0.0.1 53 {{\n protocol UDP\n lvs_sched rr\n lvs_method NAT\n real_server 10.0.0.2 53 {{\n  UDP_CHECK {{\n{lines}\n  }}\n }}\n}}\n"
    );
    let parsed = parse_str("t.conf", &text, &Options::default(), None);
    let (payload, reply) = match parsed.config.virtual_servers[0].real_servers[0].checkers.first().map(|c| &c.kind) {
        Some(CheckKind::Udp(u)) => (u.payload.clone(), u.require_reply.clone()),
        other => panic!("not a UDP_CHECK: {other:?}"),
    };
    let codes = parsed.diagnostics.iter().map(|d| d.code).filter(|c| *c != "vs-address-unowned").collect();
    let column = parsed.diagnostics.iter().find(|d| d.severity >= vigil_config::Severity::Warning).map(|d| d.span.col);
    Read { payload, reply, codes, column, exit: exit_code(&parsed.diagnostics, false) }
}

fn exact(bytes: &[u8]) -> Vec<(u8, u8)> {
    bytes.iter().map(|&b| (b, 0xff)).collect()
}

#[test]
fn words_go_by_pairs_and_an_odd_last_digit_is_a_byte_of_its_own() {
    let r = read("payload Ab12f 3 456 546443123");
    assert_eq!(r.payload, Some(vec![0xab, 0x12, 0x0f, 0x03, 0x45, 0x06, 0x54, 0x64, 0x43, 0x12, 0x03]));
    assert_eq!((r.codes.len(), r.exit), (0, 0));
    assert_eq!(read("payload 123").payload, Some(vec![0x12, 0x03]));
    assert_eq!(read("payload \"01 02\tf\"").payload, Some(vec![0x01, 0x02, 0x0f]), "a quoted string splits at spaces");
}

#[test]
fn x_digits_match_anything_in_require_reply_only() {
    let r = read("require_reply 01xX 2x x2 1x2 x");
    let want = vec![(0x01, 0xff), (0x00, 0x00), (0x20, 0xf0), (0x02, 0x0f), (0x10, 0xf0), (0x02, 0xff), (0x00, 0xf0)];
    assert_eq!(r.reply, Some(ReplyPattern { bytes: want }), "a lone x is 0X: the high nibble still counts");
    assert_eq!(r.exit, 0);

    let r = read("payload 01 0x");
    assert_eq!((r.payload, r.codes, r.exit), (None, vec!["bad-value"], 5));
    assert_eq!(r.column, Some(12), "the error points at the word");
}

#[test]
fn require_reply_alone_wants_any_reply() {
    assert_eq!(read("require_reply").reply, Some(ReplyPattern::default()));
    assert_eq!(read("require_reply cafe").reply, Some(ReplyPattern { bytes: exact(&[0xca, 0xfe]) }));
}

#[test]
fn a_0x_prefix_is_refused_in_payload_and_noted_in_require_reply() {
    assert_eq!(read("payload 0x0102").exit, 5);
    let r = read("require_reply 0x0102");
    assert_eq!(r.reply, Some(ReplyPattern { bytes: vec![(0x00, 0xf0), (0x01, 0xff), (0x02, 0xff)] }));
    assert_eq!((r.codes, r.exit), (vec!["hex-prefix"], 0), "keepalived accepts it; a note says how it reads");
}

#[test]
fn strings_keepalived_refuses() {
    for (lines, code) in [
        ("payload", "missing-value"),
        ("payload \"\"", "bad-value"),
        ("require_reply \"\"", "bad-value"),
        ("payload zz", "bad-value"),
        ("require_reply 01 yz", "bad-value"),
        // keepalived 2.2.7 refuses a last byte FF (a bug fixed later); Vigil warns, so `-t`
        // exits 5 as keepalived does, and reads the bytes as written.
        ("payload 1234 FFFF", "hex-ends-ff"),
        ("require_reply 0XfF", "hex-ends-ff"),
    ] {
        let r = read(lines);
        assert!(r.codes.contains(&code), "{lines}: {:?}", r.codes);
        assert_eq!(r.exit, 5, "{lines}");
    }
    assert_eq!(read("payload 1234 FFFF").payload, Some(vec![0x12, 0x34, 0xff, 0xff]));
    assert_eq!(read("payload ff00").exit, 0, "FF elsewhere is fine");
    assert_eq!(read("require_reply fx").exit, 0, "F0 with a wildcard is not FF");
}
