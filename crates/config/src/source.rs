//! Reading configuration text into lines of tokens, with keepalived's preprocessing:
//! `include` (glob, relative to the including file, loop-guarded), `@ID` / `@^ID`
//! conditional lines, `$NAME=value` definitions (multi-line with `\`) substituted as
//! `$NAME` or `${NAME}`, and `~SEQ` / `~SEQx` / `~LST` line expansion.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, multispace0};
use nom::combinator::{map, opt, recognize};
use nom::multi::separated_list1;
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};

use crate::diag::Diagnostics;
use crate::keywords::{self, Ctx};
use crate::lexer::{self, Token};
use crate::model::Config;
use crate::reuse::{Moved, Running};
use crate::span::{FileId, Span};
use crate::tree::Builder;
use crate::Options;

/// keepalived reads the file with `fgets` into a 1024-byte buffer: 1023 bytes at a time.
const LINE_PIECE: usize = 1023;
/// Nested includes deeper than this are refused (keepalived's own limit is similar).
const MAX_INCLUDE_DEPTH: usize = 32;
/// Recursion limit for substitution and `~SEQ` nesting: a self-referencing definition stops here.
const MAX_EXPANSION_DEPTH: u32 = 32;
/// Upper bound on the lines that expansions may produce, so a typo cannot exhaust memory or
/// time (keepalived's own largest documented example makes 65,024 instances from one line).
const MAX_EXPANDED_LINES: usize = 1_000_000;
/// Upper bound on lines looked at, expansions included (a self-referencing definition doubles
/// its lines on every pass and would otherwise run away before emitting any).
const MAX_PROCESSED_LINES: usize = 2_000_000;
/// Longest line substitution may build (a definition used twice in its own value doubles).
const MAX_LINE_LEN: usize = 64 * 1024;
/// How much of a file is read at a time (whole lines of it are parsed before the next piece).
const READ_CHUNK: usize = 64 * 1024;

/// The file a line is read from.
struct FileInfo {
    file: FileId,
    dir: Arc<Path>,
}

impl FileInfo {
    fn new(path: &Path) -> Self {
        FileInfo { file: FileId::intern(path), dir: Arc::from(path.parent().unwrap_or(Path::new(""))) }
    }
}

/// Where a line came from: its file, its line number, and how far its text is shifted from
/// the file's column 1 (prefixes such as `@ID ` removed). Copied freely: it only borrows.
#[derive(Clone, Copy)]
struct Origin<'f> {
    info: &'f FileInfo,
    line: u32,
    col_offset: u32,
}

impl Origin<'_> {
    fn span(&self, col: u32) -> Span {
        Span::new(self.info.file, self.line, col + self.col_offset)
    }
}

pub(crate) struct Reader<'a> {
    opts: &'a Options,
    diags: &'a mut Diagnostics,
    vars: HashMap<String, Vec<String>>,
    includes: Vec<PathBuf>,
    builder: Builder,
    config: Config,
    /// Reused for every line's tokens.
    tokens: Vec<Token>,
    /// Tests look at the preprocessed lines instead of parsing them.
    #[cfg(test)]
    capture: Option<Vec<String>>,
    expanded: usize,
    /// Lines looked at so far, expansions included; see `MAX_PROCESSED_LINES`.
    processed: usize,
    /// Set once a limit has been reported, so a runaway expansion reports once.
    limit_hit: bool,
    /// Definitions being expanded on the way to the current line: one met again is a cycle.
    chain: Vec<String>,
    /// Definitions expanded by the last `substitute`.
    used: Vec<String>,
    /// Draws `${_RANDOM}`: the same values for the same seed, which the daemon takes from the clock.
    rng: fastrand::Rng,
    /// A multi-line definition being collected: its name and lines so far.
    pending_def: Option<(String, Vec<String>)>,
    /// A reload's running configuration, whose virtual servers are taken as they are read
    /// again unchanged ([`Reader::over`]), and which of them the file moved.
    running: Option<Running<'a>>,
    moved: Moved,
}

impl<'a> Reader<'a> {
    pub fn new(opts: &'a Options, diags: &'a mut Diagnostics) -> Self {
        Reader {
            opts,
            diags,
            vars: HashMap::new(),
            includes: Vec::new(),
            builder: Builder::default(),
            config: Config::default(),
            tokens: Vec::new(),
            #[cfg(test)]
            capture: None,
            expanded: 0,
            processed: 0,
            limit_hit: false,
            chain: Vec::new(),
            used: Vec::new(),
            rng: fastrand::Rng::with_seed(opts.random_seed),
            pending_def: None,
            running: None,
            moved: Moved::default(),
        }
    }

    /// Reads a file given on the command line; `Err` only when it cannot be read at all.
    pub fn read_root(&mut self, path: &Path) -> std::io::Result<()> {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        self.includes.push(canonical);
        let read = self.read_file(path);
        self.includes.pop();
        read
    }

    /// Reads configuration text that has no file behind it (tests, fuzzing); includes are
    /// resolved against the current directory.
    pub fn read_text(&mut self, file: Arc<Path>, text: &str) {
        let info = FileInfo::new(&file);
        self.read_lines(&info, text, 1);
        self.end_definition();
    }

    /// Reads a file a piece of whole lines at a time, so that a large file is never held (or
    /// its pages touched) whole. Invalid UTF-8 is replaced rather than refused: keepalived
    /// reads bytes.
    fn read_file(&mut self, path: &Path) -> std::io::Result<()> {
        let mut file = std::fs::File::open(path)?;
        let info = FileInfo::new(path);
        let mut buf = Vec::with_capacity(READ_CHUNK);
        let mut next_line = 1;
        loop {
            let n = (&mut file).take(READ_CHUNK as u64).read_to_end(&mut buf)?;
            let end = match memchr::memrchr(b'\n', &buf) {
                _ if n == 0 => buf.len(),
                Some(i) => i + 1,
                // A line longer than the piece: read on until it ends.
                None => continue,
            };
            let text = match std::str::from_utf8(&buf[..end]) {
                Ok(text) => std::borrow::Cow::Borrowed(text),
                Err(_) => String::from_utf8_lossy(&buf[..end]),
            };
            next_line = self.read_lines(&info, &text, next_line);
            buf.drain(..end);
            if n == 0 {
                break;
            }
        }
        self.end_definition();
        Ok(())
    }

    /// Reads whole lines, the first of them numbered `first`; returns the next line's number.
    fn read_lines(&mut self, info: &FileInfo, text: &str, first: usize) -> usize {
        let mut next = first;
        // Where the next `"`, `#` or `!` is: most lines have none, and need no comment search.
        let mut specials = memchr::memchr3_iter(b'"', b'#', b'!', text.as_bytes());
        let mut next_special = specials.next();
        for (start, raw) in lines(text) {
            let origin = Origin { info, line: u32::try_from(next).unwrap_or(u32::MAX), col_offset: 0 };
            next += 1;
            if raw.len() > LINE_PIECE {
                self.long_line(raw, origin);
            }
            let end = start + raw.len();
            let raw = match next_special {
                Some(at) if at < end => {
                    next_special = specials.find(|&at| at > end);
                    lexer::strip_comment(raw)
                }
                _ => raw,
            };
            let line = lexer::trim_end(raw);
            if let Some((name, mut body)) = self.pending_def.take() {
                match line.strip_suffix('\\') {
                    Some(more) => {
                        body.push(more.trim().to_string());
                        self.pending_def = Some((name, body));
                    }
                    None if line.trim().is_empty() => self.pending_def = Some((name, body)),
                    None => {
                        body.push(line.trim().to_string());
                        self.vars.insert(name, body);
                    }
                }
                continue;
            }
            self.process(line, origin, 0);
        }
        next
    }

    /// A multi-line definition still open at the end of its file ends there.
    fn end_definition(&mut self) {
        if let Some((name, body)) = self.pending_def.take() {
            self.vars.insert(name, body);
        }
    }

    fn process(&mut self, line: &str, origin: Origin<'_>, depth: u32) {
        // keepalived's whitespace only: a leading no-break space belongs to the word.
        let trimmed = lexer::trim_start(line);
        if trimmed.is_empty() {
            return;
        }
        let mut origin = origin;
        origin.col_offset += (line.len() - trimmed.len()) as u32;
        self.processed += 1;
        if depth > MAX_EXPANSION_DEPTH || self.processed > MAX_PROCESSED_LINES || self.expanded >= MAX_EXPANDED_LINES {
            self.limit(origin, depth > MAX_EXPANSION_DEPTH);
            return;
        }
        if let Some(rest) = trimmed.strip_prefix('@') {
            let (negate, rest) = match rest.strip_prefix('^') {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let id_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let matches = rest[..id_len] == *self.opts.config_id;
            if matches != negate {
                let skip = trimmed.len() - rest.len() + id_len;
                let mut o = origin;
                o.col_offset += skip as u32;
                self.process(&trimmed[skip..], o, depth + 1);
            }
            return;
        }
        if trimmed.starts_with("~SEQ") || trimmed.starts_with("~LST") {
            self.expand_block(trimmed, origin, depth);
            return;
        }
        if let Some((name, value)) = trimmed.starts_with('$').then(|| definition(trimmed)).flatten() {
            match value.trim().strip_suffix('\\') {
                Some(first) if first.trim().is_empty() => self.pending_def = Some((name.to_string(), Vec::new())),
                Some(first) => self.pending_def = Some((name.to_string(), vec![first.trim().to_string()])),
                None => {
                    self.vars.insert(name.to_string(), vec![value.trim().to_string()]);
                }
            }
            return;
        }
        match self.substitute(trimmed, origin) {
            Some(lines) => {
                let used = std::mem::take(&mut self.used);
                let mark = self.chain.len();
                self.chain.extend(used);
                for l in lines {
                    if self.limit_hit {
                        break;
                    }
                    self.process(&l, origin, depth + 1);
                }
                self.chain.truncate(mark);
            }
            None => match include_target(trimmed) {
                Some((checked, pattern)) => self.include(checked, pattern, origin),
                None => self.emit(trimmed, origin),
            },
        }
    }

    /// Reports, once, that an expansion went past a limit; what follows it is dropped.
    fn limit(&mut self, origin: Origin<'_>, depth: bool) {
        if self.limit_hit {
            return;
        }
        self.limit_hit = true;
        let message = if depth {
            format!("parameter substitution or ~SEQ nested deeper than {MAX_EXPANSION_DEPTH} (a definition that refers to itself?)")
        } else {
            format!("expansions produced more than {MAX_EXPANDED_LINES} lines; the rest is ignored")
        };
        self.diags.error(if depth { "expansion-depth" } else { "expansion-limit" }, &origin.span(1), message);
    }

    fn emit(&mut self, text: &str, origin: Origin<'_>) {
        self.expanded += 1;
        let mut tokens = std::mem::take(&mut self.tokens);
        match lexer::tokenize_into(text, &mut tokens) {
            #[cfg(test)]
            Ok(()) if self.capture.is_some() => {
                let words: Vec<String> = tokens
                    .drain(..)
                    .map(|t| match t {
                        Token::Word { text, .. } => text.to_string(),
                        Token::Open { .. } => "{".into(),
                        Token::Close { .. } => "}".into(),
                    })
                    .collect();
                if let Some(c) = self.capture.as_mut() {
                    c.push(words.join(" "));
                }
            }
            Ok(()) => {
                self.builder.start_line(text);
                self.feed(&mut tokens, origin)
            }
            Err(lexer::LexError::UnterminatedQuote { col, mut tokens }) => {
                self.diags.error(
                    "unterminated-quote",
                    &origin.span(col),
                    "unterminated quoted string: the '\"' opened here is never closed on this line; the rest of the line is ignored",
                );
                self.feed(&mut tokens, origin);
            }
        }
        self.tokens = tokens;
    }

    /// Gives one line's tokens to the statement builder.
    fn feed(&mut self, tokens: &mut Vec<Token>, origin: Origin<'_>) {
        for token in tokens.drain(..) {
            let col = match &token {
                Token::Word { col, .. } | Token::Open { col } | Token::Close { col } => *col,
            };
            self.builder.token(token, origin.span(col), self.diags);
        }
        self.builder.end_line();
        self.apply_ready();
    }

    /// keepalived reads a line [`LINE_PIECE`] bytes at a time: what follows is read as a line of
    /// its own (an unknown keyword, at best), even in a comment. Said once per line, when a
    /// following piece holds more than blanks.
    fn long_line(&mut self, raw: &str, origin: Origin<'_>) {
        let rest = &raw.as_bytes()[LINE_PIECE..];
        let Some(piece) = rest.chunks(LINE_PIECE).find(|p| p.iter().any(|b| !b.is_ascii_whitespace())) else {
            return;
        };
        let shown: String = String::from_utf8_lossy(piece).trim().chars().take(20).collect();
        self.diags.warning(
            "line-too-long",
            &origin.span(1),
            format!(
                "this line is {} bytes long: keepalived 2.2.7 reads {LINE_PIECE} at a time and takes the rest ('{shown}...') as a line of its own",
                raw.len()
            ),
        );
    }

    /// With a reload's `running` configuration: each virtual server that says the same as one
    /// of it is replaced by that one as soon as it is read ([`Running::share`]).
    pub fn over(mut self, running: Option<&'a Config>) -> Self {
        self.running = running.map(Running::new);
        self
    }

    /// Hands complete top-level statements to the keyword tables; they are dropped after.
    fn apply_ready(&mut self) {
        let mut ctx = Ctx::new(self.diags);
        for stmt in self.builder.take_ready() {
            let before = self.config.virtual_servers.len();
            keywords::top(&mut ctx, &stmt, &mut self.config);
            let (Some(running), Some(vs)) = (&mut self.running, self.config.virtual_servers.get_mut(before)) else {
                continue;
            };
            if let Some(by) = running.share(vs) {
                self.moved.record(before, by);
            }
        }
    }

    /// Ends the input and returns the configuration read, with where the file moved the
    /// virtual servers taken from the running one.
    pub fn finish(mut self) -> (Config, Moved) {
        self.builder.finish(self.diags);
        self.apply_ready();
        (self.config, self.moved)
    }

    /// Replaces `$NAME` (followed by whitespace or the end) and `${NAME}` once; `None` when
    /// nothing was replaced. A multi-line value splits the line.
    fn substitute(&mut self, line: &str, origin: Origin<'_>) -> Option<Vec<String>> {
        self.used.clear();
        memchr::memchr(b'$', line.as_bytes())?;
        let mut out: Vec<String> = vec![String::new()];
        let mut changed = false;
        let mut rest = line;
        while let Some(pos) = rest.find('$') {
            let (before, at) = rest.split_at(pos);
            push_str(&mut out, before);
            match reference(at) {
                Some((name, args, after)) => match self.lookup(name, args, origin) {
                    Some(value) => {
                        changed = true;
                        for (i, v) in value.iter().enumerate() {
                            if i > 0 {
                                out.push(String::new());
                            }
                            push_str(&mut out, v);
                        }
                        rest = after;
                    }
                    None => {
                        push_str(&mut out, &at[..at.len() - after.len()]);
                        rest = after;
                    }
                },
                None => {
                    push_str(&mut out, "$");
                    rest = &at[1..];
                }
            }
        }
        push_str(&mut out, rest);
        if out.iter().any(|l| l.len() > MAX_LINE_LEN) {
            if !self.limit_hit {
                self.limit_hit = true;
                self.diags.error(
                    "expansion-limit",
                    &origin.span(1),
                    format!("parameter substitution made a line longer than {MAX_LINE_LEN} bytes (a definition that refers to itself?)"),
                );
            }
            return Some(Vec::new());
        }
        changed.then_some(out)
    }

    fn lookup(&mut self, name: &str, args: &str, origin: Origin<'_>) -> Option<Vec<String>> {
        if let Some(v) = self.vars.get(name) {
            if refers_to(v, name) || self.chain.iter().any(|c| c == name) {
                if !self.limit_hit {
                    self.limit_hit = true;
                    self.diags.error(
                        "expansion-depth",
                        &origin.span(1),
                        format!("the definition of ${name} refers to itself, directly or through another definition; it is not expanded"),
                    );
                }
                return Some(Vec::new());
            }
            let v = v.clone();
            self.used.push(name.to_string());
            return Some(v);
        }
        let one = |s: String| Some(vec![s]);
        match name {
            "_PWD" => one(origin.info.dir.display().to_string()),
            "_INSTANCE" => one(self.opts.config_id.clone()),
            "_HASH" => one("#".into()),
            "_BANG" => one("!".into()),
            "_RANDOM" => {
                let mut nums = args.split_whitespace().map(str::parse::<u64>);
                let min = nums.next().and_then(Result::ok).unwrap_or(0);
                // Never below `min`: an empty range would panic in `u64`.
                let max = nums.next().and_then(Result::ok).unwrap_or(32767).max(min);
                one(self.rng.u64(min..=max).to_string())
            }
            _ => None,
        }
    }

    fn expand_block(&mut self, line: &str, origin: Origin<'_>, depth: u32) {
        let parsed = seq_spec(line).ok();
        let Some((rest, spec)) = parsed else {
            self.diags.error(
                "bad-sequence",
                &origin.span(1),
                format!("cannot parse sequence/list block '{}'", first_word(line)),
            );
            return;
        };
        let runs = match spec.values() {
            Ok(v) => v,
            Err(msg) => {
                self.diags.error("bad-sequence", &origin.span(1), msg);
                return;
            }
        };
        let mut o = origin;
        o.col_offset += (line.len() - rest.len()) as u32;
        for assignment in runs {
            if self.limit_hit {
                break;
            }
            for (var, val) in assignment {
                self.vars.insert(var, vec![val]);
            }
            self.process(rest, o, depth + 1);
        }
    }

    /// `include` (lenient, as keepalived) or a checked variant (`includea`, ...), whose
    /// failures are security errors.
    fn include(&mut self, checked: bool, pattern: &str, origin: Origin<'_>) {
        let span = origin.span(1);
        let full =
            if Path::new(pattern).is_absolute() { PathBuf::from(pattern) } else { origin.info.dir.join(pattern) };
        let mut matches: Vec<PathBuf> = match glob::glob(&full.to_string_lossy()) {
            Ok(paths) => paths.filter_map(Result::ok).collect(),
            Err(e) => {
                self.diags.error("bad-include", &span, format!("invalid include pattern '{pattern}': {e}"));
                return;
            }
        };
        matches.sort();
        if matches.is_empty() {
            if checked {
                self.diags.security_error("include-missing", &span, format!("no file matches '{pattern}'"));
            } else {
                self.diags.note(
                    "include-no-match",
                    &span,
                    format!("include '{pattern}' matches no file (keepalived ignores this silently; 'includea' makes it an error)"),
                );
            }
        }
        for path in matches {
            let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
            if self.includes.contains(&canonical) {
                self.diags.note(
                    "include-loop",
                    &span,
                    format!(
                        "include loop: '{}' is already being read; not read again (keepalived recurses until it runs out of file descriptors)",
                        path.display()
                    ),
                );
                continue;
            }
            if self.includes.len() >= MAX_INCLUDE_DEPTH {
                self.diags.error("include-depth", &span, format!("includes nested deeper than {MAX_INCLUDE_DEPTH}"));
                return;
            }
            self.includes.push(canonical);
            let saved = self.pending_def.take();
            let read = self.read_file(&path);
            self.pending_def = saved;
            self.includes.pop();
            match read {
                Ok(()) => {}
                Err(e) if checked => self.diags.security_error(
                    "include-unreadable",
                    &span,
                    format!("cannot read included file '{}': {e}", path.display()),
                ),
                Err(e) => self.diags.note(
                    "include-unreadable",
                    &span,
                    format!("cannot read included file '{}': {e} (keepalived skips it silently)", path.display()),
                ),
            }
        }
    }
}

/// Whether a definition's value uses `$name` or `${name}` (it would expand for ever).
fn refers_to(value: &[String], name: &str) -> bool {
    value.iter().any(|line| {
        let mut rest = line.as_str();
        while let Some(pos) = rest.find('$') {
            let at = &rest[pos..];
            if let Some((n, _, _)) = reference(at) {
                if n == name {
                    return true;
                }
            }
            rest = &at[1..];
        }
        false
    })
}

/// The lines of `text` with their byte offsets, without their `\n` or `\r\n` (as `str::lines`,
/// but `memchr` finds the ends faster).
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    std::iter::from_fn(move || {
        let rest = text.get(start..).filter(|r| !r.is_empty())?;
        let line = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(e) => &rest[..e],
            None => rest,
        };
        let at = start;
        start += line.len() + 1;
        Some((at, line.strip_suffix('\r').unwrap_or(line)))
    })
}

fn push_str(out: &mut [String], s: &str) {
    if let Some(last) = out.last_mut() {
        last.push_str(s);
    }
}

fn first_word(s: &str) -> &str {
    s.split_whitespace().next().unwrap_or("")
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn name(i: &str) -> IResult<&str, &str> {
    recognize((take_while1(is_name_start), take_while(is_name_char))).parse(i)
}

/// `$NAME=value`: only whitespace before `$`, no space before `=`.
fn definition(line: &str) -> Option<(&str, &str)> {
    let parsed: IResult<&str, &str> = delimited(char('$'), name, char('=')).parse(line);
    parsed.ok().map(|(value, n)| (n, value))
}

/// A reference at the start of `s`: `${NAME[ args]}` or `$NAME` followed by whitespace or
/// the end. Returns the name, the arguments and the text after the reference.
fn reference(s: &str) -> Option<(&str, &str, &str)> {
    let braced: IResult<&str, (&str, &str)> = delimited(
        tag("${"),
        (
            name,
            map(opt(preceded(take_while1(char::is_whitespace), take_while(|c| c != '}'))), Option::unwrap_or_default),
        ),
        char('}'),
    )
    .parse(s);
    if let Ok((after, (n, args))) = braced {
        return Some((n, args, after));
    }
    let plain: IResult<&str, &str> = preceded(char('$'), name).parse(s);
    match plain {
        Ok((after, n)) if after.is_empty() || after.starts_with(char::is_whitespace) => Some((n, "", after)),
        _ => None,
    }
}

/// If this line is an include: whether it is a checked variant, and the pattern (the rest of
/// the line, as keepalived takes it).
fn include_target(line: &str) -> Option<(bool, &str)> {
    if !line.starts_with("include") {
        return None;
    }
    let (word, rest) = line.split_once(lexer::is_space)?;
    let checked = match word {
        "include" => false,
        "includer" | "includem" | "includew" | "includeb" | "includea" => true,
        _ => return None,
    };
    let target = rest.trim_matches(lexer::is_space);
    (!target.is_empty()).then(|| (checked, target.trim_matches('"')))
}

/// A parsed `~SEQ(var, [start,] [step,] end)`, `~SEQx(...)` or `~LST(...)` head.
enum SeqSpec<'a> {
    Seq { hex: bool, var: &'a str, nums: Vec<&'a str> },
    List { vars: Vec<&'a str>, values: Vec<Vec<&'a str>> },
}

fn ws<'a, O>(
    p: impl Parser<&'a str, Output = O, Error = nom::error::Error<&'a str>>,
) -> impl Parser<&'a str, Output = O, Error = nom::error::Error<&'a str>> {
    delimited(multispace0, p, multispace0)
}

fn item(i: &str) -> IResult<&str, &str> {
    take_while1(|c: char| !matches!(c, ',' | ')' | '}' | '{') && !c.is_whitespace()).parse(i)
}

fn group(i: &str) -> IResult<&str, Vec<&str>> {
    alt((delimited(ws(char('{')), separated_list1(char(','), ws(item)), ws(char('}'))), map(ws(item), |v| vec![v])))
        .parse(i)
}

fn seq_spec(i: &str) -> IResult<&str, SeqSpec<'_>> {
    let seq = map(
        (alt((tag("~SEQx"), tag("~SEQ"))), delimited(char('('), separated_list1(char(','), ws(item)), char(')'))),
        |(t, mut parts): (&str, Vec<&str>)| {
            let var = parts.remove(0);
            SeqSpec::Seq { hex: t == "~SEQx", var, nums: parts }
        },
    );
    let lst = map(
        preceded(tag("~LST"), delimited(char('('), separated_list1(char(','), group), char(')'))),
        |mut groups: Vec<Vec<&str>>| {
            let vars = groups.remove(0);
            SeqSpec::List { vars, values: groups }
        },
    );
    alt((seq, lst)).parse(i)
}

fn parse_num(s: &str) -> Result<i64, String> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let v = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(h) => i64::from_str_radix(h, 16),
        None => digits.parse::<i64>(),
    }
    .map_err(|_| format!("'{s}' is not a number in a ~SEQ block"))?;
    Ok(if neg { -v } else { v })
}

impl SeqSpec<'_> {
    /// Each run's variable assignments, in order.
    fn values(&self) -> Result<Vec<Vec<(String, String)>>, String> {
        match self {
            SeqSpec::Seq { hex, var, nums } => {
                let nums: Vec<i64> = nums.iter().map(|s| parse_num(s)).collect::<Result<_, _>>()?;
                let (start, step, end) = match nums.as_slice() {
                    [end] => (if *end < 0 { -1 } else { 1 }, None, *end),
                    [start, end] => (*start, None, *end),
                    [start, step, end] => (*start, Some(*step), *end),
                    _ => return Err("~SEQ takes a variable and one to three numbers".into()),
                };
                let step = step.unwrap_or(if end >= start { 1 } else { -1 });
                if step == 0 || (step > 0 && start > end) || (step < 0 && start < end) {
                    return Err(format!("~SEQ({var}, {start}, {step}, {end}) never reaches its end"));
                }
                let count = end.checked_sub(start).map(|span| span / step + 1);
                let count = match count {
                    Some(c) if c <= MAX_EXPANDED_LINES as i64 => c,
                    _ => {
                        return Err(format!(
                            "~SEQ({var}, {start}, {step}, {end}) would produce more than {MAX_EXPANDED_LINES} lines"
                        ))
                    }
                };
                Ok((0..count)
                    .map(|k| {
                        let v = start + k * step;
                        let text = if *hex { format!("{v:x}") } else { v.to_string() };
                        vec![(var.to_string(), text)]
                    })
                    .collect())
            }
            SeqSpec::List { vars, values } => {
                if values.is_empty() {
                    return Err("~LST needs at least one value".into());
                }
                values
                    .iter()
                    .map(|vals| {
                        if vals.len() != vars.len() {
                            return Err(format!(
                                "~LST value {{{}}} does not match the {} variables",
                                vals.join(","),
                                vars.len()
                            ));
                        }
                        Ok(vars.iter().zip(vals).map(|(k, v)| (k.to_string(), v.to_string())).collect())
                    })
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines the preprocessor produces, as the `static_ipaddress` block sees them
    /// (`{` / `}` lines drop out), and the diagnostics.
    fn lines(text: &str, id: &str) -> (Vec<String>, Vec<crate::diag::Diagnostic>) {
        let opts = Options { config_id: id.into(), ..Options::default() };
        let mut diags = Diagnostics::default();
        let mut r = Reader::new(&opts, &mut diags);
        r.capture = Some(Vec::new());
        r.read_text(Arc::from(Path::new("t.conf")), text);
        let out = r.capture.take().unwrap_or_default();
        (out, diags.into_vec())
    }

    #[test]
    fn comments_only_where_they_are() {
        let text = "a 1\r\nb \"x # y\" # c\nc 2 ! d\nd 3\n# e\nf \"!\"\ng 4";
        assert_eq!(lines(text, "").0, ["a 1", "b x # y", "c 2", "d 3", "f !", "g 4"]);
    }

    #[test]
    fn conditionals() {
        let text = "@main router_id A\n@backup router_id B\n@^main x 1\n";
        assert_eq!(lines(text, "main").0, ["router_id A"]);
        assert_eq!(lines(text, "backup").0, ["router_id B", "x 1"]);
    }

    #[test]
    fn substitution_is_recursive_and_late() {
        let text = "$ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}\n$ADDRESS_BASE_SUB=0\n${ADDRESS_BASE}.100/32\n$ADDRESS_BASE_SUB=10\n${ADDRESS_BASE}.100/32\n$UNDEF_X y\n";
        assert_eq!(lines(text, "m").0, ["10.2.0.100/32", "10.2.10.100/32", "$UNDEF_X y"]);
    }

    #[test]
    fn substitution_with_conditionals() {
        let text =
            "@main $PRIORITY=240\n@backup $PRIORITY=200\npriority $PRIORITY\n$IF_MAIN=@main\n$IF_MAIN weight 3\n";
        assert_eq!(lines(text, "main").0, ["priority 240", "weight 3"]);
        assert_eq!(lines(text, "backup").0, ["priority 200"]);
    }

    #[test]
    fn multiline_definitions() {
        let text = "$RS= \\\nreal_server 192.0.2.${N} 80 { \\\n  weight 1 \\\n}\n$N=1\n$RS\n$N=2\n$RS\n";
        assert_eq!(
            lines(text, "m").0,
            ["real_server 192.0.2.1 80 {", "weight 1", "}", "real_server 192.0.2.2 80 {", "weight 1", "}"]
        );
    }

    #[test]
    fn sequences_and_lists() {
        assert_eq!(
            lines("~SEQ(S, 0, 3) ip 10.0.${S}.1\n", "m").0,
            ["ip 10.0.0.1", "ip 10.0.1.1", "ip 10.0.2.1", "ip 10.0.3.1"]
        );
        assert_eq!(lines("~SEQx(S, 0x90, 0x10, 0xc0) a fe80::${S}:1\n", "m").0.len(), 4);
        assert_eq!(lines("~SEQ(S, 3) n ${S}\n", "m").0, ["n 1", "n 2", "n 3"]);
        assert_eq!(lines("~SEQ(S, 3, 1) n ${S}\n", "m").0, ["n 3", "n 2", "n 1"]);
        assert_eq!(
            lines("~LST({IP, IP1}, {10,1},{20,4}) ~SEQ(B,1,2) 192.${B}.${IP}.${IP1}\n", "m").0,
            ["192.1.10.1", "192.2.10.1", "192.1.20.4", "192.2.20.4"]
        );
    }

    #[test]
    fn self_reference_is_an_error_not_a_hang() {
        let (_, d) = lines("$A=${A}x\n${A}\n", "m");
        assert!(d.iter().any(|d| d.code == "expansion-depth"));
    }

    #[test]
    fn predefined() {
        assert_eq!(lines("a ${_HASH} ${_BANG} ${_INSTANCE}\n", "m").0, ["a # ! m"]);
    }
}
