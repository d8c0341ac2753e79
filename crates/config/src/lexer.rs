//! Splitting one logical line into words, as keepalived 2.2 does (its man page differs in
//! places; the binary is the reference): whitespace separates words, `{` and `}` are words of
//! their own, `"` quotes a word with its spaces (no escapes; a `"` inside a word ends the word,
//! so `a"b c"d` is three words), `'` is an ordinary character, and `#` or `!` outside double
//! quotes start a comment.

use compact_str::CompactString;
use nom::bytes::complete::take_till;
use nom::character::complete::char;
use nom::sequence::delimited;
use nom::{IResult, Parser};

/// One token of a line, with its 1-based column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    Word { text: CompactString, col: u32 },
    Open { col: u32 },
    Close { col: u32 },
}

/// What went wrong while splitting a line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LexError {
    /// A `"` was opened and the line ended first; the tokens before it are kept.
    #[error("unterminated quoted string (opened with \" at column {col}); the rest of the line is ignored")]
    UnterminatedQuote { col: u32, tokens: Vec<Token> },
}

/// Returns `line` without its comment: from the first `#` or `!` outside double quotes.
pub fn strip_comment(line: &str) -> &str {
    // Every character that matters here is ASCII, so searching bytes finds the same places;
    // most lines have none of the three, which memchr3 settles without a byte-by-byte loop.
    let bytes = line.as_bytes();
    let mut quoted = false;
    for i in memchr::memchr3_iter(b'"', b'#', b'!', bytes) {
        match bytes[i] {
            b'"' => quoted = !quoted,
            _ if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

/// C's `isspace`: keepalived splits on these only (a no-break space is part of a word).
pub fn is_space(c: char) -> bool {
    c.is_ascii() && class(c as u8) == SPACE
}

/// `s` without leading C whitespace.
pub fn trim_start(s: &str) -> &str {
    // Whitespace is ASCII: a position after it is always a character boundary.
    &s[s.bytes().position(|b| class(b) != SPACE).unwrap_or(s.len())..]
}

/// `s` without trailing C whitespace.
pub fn trim_end(s: &str) -> &str {
    &s[..s.bytes().rposition(|b| class(b) != SPACE).map_or(0, |i| i + 1)]
}

/// Byte classes for the lexer: every delimiter is ASCII, so classifying bytes (UTF-8 lead and
/// continuation bytes are plain) splits where classifying characters would, with one table load
/// per byte.
const PLAIN: u8 = 0;
const SPACE: u8 = 1;
const DELIM: u8 = 2;

const CLASSES: [u8; 256] = {
    let mut t = [PLAIN; 256];
    t[b' ' as usize] = SPACE;
    t[b'\t' as usize] = SPACE;
    t[b'\n' as usize] = SPACE;
    t[b'\r' as usize] = SPACE;
    t[0x0b] = SPACE;
    t[0x0c] = SPACE;
    t[b'{' as usize] = DELIM;
    t[b'}' as usize] = DELIM;
    t[b'"' as usize] = DELIM;
    t
};

fn class(b: u8) -> u8 {
    CLASSES[b as usize]
}

/// A run of plain characters (possibly empty).
fn plain(i: &str) -> (&str, &str) {
    let end = i.bytes().position(|b| class(b) != PLAIN).unwrap_or(i.len());
    (&i[end..], &i[..end])
}

fn quoted(i: &str) -> IResult<&str, &str> {
    delimited(char('"'), take_till(|c| c == '"'), char('"')).parse(i)
}

/// Splits a comment-free line into tokens.
pub fn tokenize(line: &str) -> Result<Vec<Token>, LexError> {
    let mut tokens = Vec::new();
    tokenize_into(line, &mut tokens).map(|()| tokens)
}

/// Splits a comment-free line into `tokens` (cleared first), reusing its allocation.
pub fn tokenize_into(line: &str, tokens: &mut Vec<Token>) -> Result<(), LexError> {
    tokens.clear();
    let mut rest = line;
    let col_of = |rest: &str| u32::try_from(line.len() - rest.len() + 1).unwrap_or(u32::MAX);
    loop {
        let skip = rest.bytes().position(|b| class(b) != SPACE).unwrap_or(rest.len());
        rest = &rest[skip..];
        let Some(&c) = rest.as_bytes().first() else { break };
        let col = col_of(rest);
        match c {
            b'{' => {
                tokens.push(Token::Open { col });
                rest = &rest[1..];
            }
            b'}' => {
                tokens.push(Token::Close { col });
                rest = &rest[1..];
            }
            b'"' => match quoted(rest) {
                Ok((after, text)) => {
                    tokens.push(Token::Word { text: CompactString::from(text), col });
                    rest = after;
                }
                Err(_) => return Err(LexError::UnterminatedQuote { col, tokens: std::mem::take(tokens) }),
            },
            _ => {
                let (after, text) = plain(rest);
                tokens.push(Token::Word { text: CompactString::from(text), col });
                rest = after;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        tokenize(line)
            .expect("valid line")
            .into_iter()
            .map(|t| match t {
                Token::Word { text, .. } => text.to_string(),
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
    fn quotes_as_keepalived_2_2_reads_them() {
        assert_eq!(words(r#"abcd "efg h jkl" mnop"#), ["abcd", "efg h jkl", "mnop"]);
        assert_eq!(words(r#"a"b c"d"#), ["a", "b c", "d"]);
        assert_eq!(words(r#"notify "/bin/a 'x y'" root"#), ["notify", "/bin/a 'x y'", "root"]);
        assert_eq!(words(r#""t\tx""#), [r"t\tx"]);
        assert_eq!(words("router_id 'LAB"), ["router_id", "'LAB"]);
        assert_eq!(words(r#""{ }""#), ["{ }"]);
    }

    #[test]
    fn unterminated_quote_is_an_error_not_a_crash() {
        assert_eq!(
            tokenize(r#"notify_master "/bin/true"#),
            Err(LexError::UnterminatedQuote {
                col: 15,
                tokens: vec![Token::Word { text: "notify_master".into(), col: 1 }]
            })
        );
    }

    #[test]
    fn comments() {
        assert_eq!(strip_comment("priority 100 # main"), "priority 100 ");
        assert_eq!(strip_comment("! whole line"), "");
        assert_eq!(strip_comment(r#"misc_path "/bin/x #1 !2" # c"#), r#"misc_path "/bin/x #1 !2" "#);
        assert_eq!(strip_comment("auth_pass ab#cd"), "auth_pass ab");
        assert_eq!(strip_comment("router_id 'q!x y'"), "router_id 'q");
    }

    #[test]
    fn no_break_space_is_not_a_separator() {
        assert_eq!(words("priority\u{a0}100"), ["priority\u{a0}100"]);
    }

    #[test]
    fn columns() {
        assert_eq!(
            tokenize("  priority 100").expect("valid"),
            [Token::Word { text: "priority".into(), col: 3 }, Token::Word { text: "100".into(), col: 12 }]
        );
    }
}
