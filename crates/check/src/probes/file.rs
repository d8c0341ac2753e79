//! FILE_CHECK: the number in a track file ([`crate::verdict::file_verdict`]).
//!
//! The file holds a number in text; like keepalived's strtol, what does not start with a
//! number reads as 0, and so does a file that cannot be read.

use crate::plan::FileSpec;
use crate::verdict::{file_verdict, ProbeResult};

pub(crate) async fn check(spec: &FileSpec) -> ProbeResult {
    let text = tokio::fs::read_to_string(&spec.path).await.unwrap_or_default();
    file_verdict(leading_number(&text), spec.weight, spec.reverse)
}

/// The number at the start of `text` (after blanks), 0 if none.
fn leading_number(text: &str) -> i64 {
    let t = text.trim_start();
    let sign_len = usize::from(t.starts_with(['-', '+']));
    let digits = t[sign_len..].bytes().take_while(u8::is_ascii_digit).count();
    t[..sign_len + digits].parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::leading_number;

    #[test]
    fn numbers() {
        for (text, n) in [("5\n", 5), ("  -12 apples", -12), ("+3", 3), ("x1", 0), ("", 0), ("-", 0)] {
            assert_eq!(leading_number(text), n, "{text:?}");
        }
    }
}
