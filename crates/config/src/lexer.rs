//! Splitting one logical line into words, as keepalived does: whitespace separates words,
//! `{` and `}` are words of their own, `"` and `'` quote (with shell-like escapes) and may be
//! glued to unquoted text, and `#` or `!` outside quotes start a comment.

use nom::branch::alt;
use nom::bytes::complete::{is_not, take_while1};
use nom::character::complete::{anychar, char, satisfy};
use nom::combinator::{map, opt, recognize, value};
use nom::multi::many0;
use nom::sequence::preceded;
use nom::{IResult, Parser};

/// One token of a line, with its 1-based column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    Word { text: String, col: u32 },
    Open { col: u32 },
    Close { col: u32 },
}

/// What went wrong while splitting a line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LexError {
    /// A `"` or `'` was opened and the line ended first.
    #[error("unterminated quoted string (opened with {quote} at column {col})")]
    UnterminatedQuote { quote: char, col: u32 },
}

/// Returns `line` without its comment: from the first `#` or `!` outside quotes.
pub fn strip_comment(line: &str) -> &str {
    // Every character that matters here is ASCII, so scanning bytes finds the same places.
    let bytes = line.as_bytes();
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    for (i, &c) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match (quote, c) {
            (Some(_), b'\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (None, b'"' | b'\'') => quote = Some(c),
            (None, b'#' | b'!') => return &line[..i],
            _ => {}
        }
    }
    line
}

fn is_plain(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '{' | '}' | '"' | '\'')
}

/// An escape inside quotes: `\n`, `\t`, `\xHH..`, `\nnn` (octal), `\cC`, or `\C` for C itself.
fn escape(i: &str) -> IResult<&str, char> {
    preceded(
        char('\\'),
        alt((
            value('\x07', char('a')),
            value('\x08', char('b')),
            value('\x1b', char('E')),
            value('\x0c', char('f')),
            value('\n', char('n')),
            value('\r', char('r')),
            value('\t', char('t')),
            value('\x0b', char('v')),
            map(preceded(char('x'), take_while1(|c: char| c.is_ascii_hexdigit())), |h: &str| {
                let v = u32::from_str_radix(&h[h.len().saturating_sub(2)..], 16).unwrap_or(0);
                char::from_u32(v).unwrap_or('\u{fffd}')
            }),
            map(
                recognize((
                    satisfy(|c| ('0'..='7').contains(&c)),
                    opt(satisfy(|c| ('0'..='7').contains(&c))),
                    opt(satisfy(|c| ('0'..='7').contains(&c))),
                )),
                |o: &str| char::from_u32(u32::from_str_radix(o, 8).unwrap_or(0) & 0xff).unwrap_or('\u{fffd}'),
            ),
            map(preceded(char('c'), anychar), |c: char| {
                char::from_u32(c.to_ascii_uppercase() as u32 & 0x1f).unwrap_or('\u{fffd}')
            }),
            anychar,
        )),
    )
    .parse(i)
}

/// The inside of a quoted string up to (not including) the closing `quote`.
fn quoted_body(quote: char) -> impl FnMut(&str) -> IResult<&str, String> {
    move |i: &str| {
        let stop: &str = if quote == '"' { "\"\\" } else { "'\\" };
        let (rest, parts) = many0(alt((map(is_not(stop), String::from), map(escape, String::from)))).parse(i)?;
        Ok((rest, parts.concat()))
    }
}

/// Splits a comment-free line into tokens.
pub fn tokenize(line: &str) -> Result<Vec<Token>, LexError> {
    let mut tokens = Vec::new();
    let mut rest = line;
    let col_of = |rest: &str| (line.len() - rest.len()) as u32 + 1;
    loop {
        rest = rest.trim_start();
        let Some(c) = rest.chars().next() else { break };
        let col = col_of(rest);
        match c {
            '{' => {
                tokens.push(Token::Open { col });
                rest = &rest[1..];
            }
            '}' => {
                tokens.push(Token::Close { col });
                rest = &rest[1..];
            }
            _ => {
                let mut text = String::new();
                loop {
                    match rest.chars().next() {
                        Some(q @ ('"' | '\'')) => {
                            let open_col = col_of(rest);
                            let body = &rest[1..];
                            let (after, s) = quoted_body(q)(body).unwrap_or((body, String::new()));
                            if !after.starts_with(q) {
                                return Err(LexError::UnterminatedQuote { quote: q, col: open_col });
                            }
                            text.push_str(&s);
                            rest = &after[1..];
                        }
                        Some(c) if is_plain(c) => {
                            let (after, s) =
                                take_while1::<_, &str, nom::error::Error<&str>>(is_plain)(rest).unwrap_or((rest, ""));
                            text.push_str(s);
                            rest = after;
                        }
                        _ => break,
                    }
                }
                tokens.push(Token::Word { text, col });
            }
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        tokenize(line)
            .expect("valid line")
            .into_iter()
            .map(|t| match t {
                Token::Word { text, .. } => text,
                Token::Open { .. } => "{".into(),
                Token::Close { .. } => "}".into(),
            })
            .collect()
    }

    #[test]
    fn words_and_braces() {
        assert_eq!(words("vrrp_instance VI_1 {"), ["vrrp_instance", "VI_1", "{"]);
        assert_eq!(words("authentication {auth_type PASS}"), ["authentication", "{", "auth_type", "PASS", "}"]);
        assert_eq!(words("  \t"), Vec::<String>::new());
    }

    #[test]
    fn quotes_as_in_the_manual() {
        assert_eq!(words(r#"abcd" efg h jkl "mnop"#), ["abcd efg h jkl mnop"]);
        assert_eq!(words(r#"abcd "efg h jkl" mnop"#), ["abcd", "efg h jkl", "mnop"]);
        assert_eq!(words(r#"notify "/bin/a 'x y'" root"#), ["notify", "/bin/a 'x y'", "root"]);
        assert_eq!(words(r#""a\tb\x41\101\"\\""#), ["a\tbAA\"\\"]);
        assert_eq!(words(r#""{ }""#), ["{ }"]);
    }

    #[test]
    fn unterminated_quote_is_an_error_not_a_crash() {
        assert_eq!(tokenize(r#"notify_master "/bin/true"#), Err(LexError::UnterminatedQuote { quote: '"', col: 15 }));
    }

    #[test]
    fn comments() {
        assert_eq!(strip_comment("priority 100 # main"), "priority 100 ");
        assert_eq!(strip_comment("! whole line"), "");
        assert_eq!(strip_comment(r#"misc_path "/bin/x #1 !2" # c"#), r#"misc_path "/bin/x #1 !2" "#);
        assert_eq!(strip_comment("auth_pass ab#cd"), "auth_pass ab");
    }

    #[test]
    fn columns() {
        assert_eq!(
            tokenize("  priority 100").expect("valid"),
            [Token::Word { text: "priority".into(), col: 3 }, Token::Word { text: "100".into(), col: 12 }]
        );
    }
}
