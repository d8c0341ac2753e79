//! Turning token lines into a tree of statements: a keyword, its arguments on the same line,
//! and an optional `{ ... }` block (which may open on the next line, as keepalived allows).
//! The builder is fed line by line and hands out each top-level statement as soon as it is
//! complete, so a large file is never held as a whole tree.

use compact_str::CompactString;

use crate::diag::Diagnostics;
use crate::lexer::Token;
use crate::span::{Span, Word};

/// A statement's arguments: most keywords take one or two, kept inline without allocating.
pub type Args = smallvec::SmallVec<[Word; 2]>;

/// `keyword args... [{ block }]`
#[derive(Clone, Debug)]
pub struct Statement {
    pub keyword: Word,
    pub args: Args,
    pub block: Option<Block>,
    /// The line from the keyword on, kept only when it holds a `\` or a `'`: keepalived reads
    /// script command lines again from the raw text, with escapes and both kinds of quotes.
    pub raw: Option<CompactString>,
}

/// The `{ ... }` part of a statement.
#[derive(Clone, Debug)]
pub struct Block {
    pub open: Span,
    pub items: Vec<Statement>,
}

impl Statement {
    pub fn span(&self) -> &Span {
        &self.keyword.span
    }

    pub fn name(&self) -> &str {
        &self.keyword.text
    }

    /// The block's statements, or none.
    pub fn items(&self) -> &[Statement] {
        self.block.as_ref().map(|b| b.items.as_slice()).unwrap_or(&[])
    }

    /// The keyword and its arguments: the words of one line, as list blocks use them.
    pub fn words(&self) -> impl Iterator<Item = &Word> {
        std::iter::once(&self.keyword).chain(self.args.iter())
    }
}

/// keepalived's grammar nests four or five blocks deep; deeper is a mistake (and an unbounded
/// depth would make dropping the tree recurse without limit).
const MAX_DEPTH: usize = 64;

/// An open block: its statements so far and where its `{` is.
struct Frame {
    items: Vec<Statement>,
    open: Span,
}

/// Builds statements from tokens; brace mistakes become diagnostics, never panics.
///
/// Statements are built where they end up, in their block's vector: a statement is a few
/// hundred bytes, and a large file has hundreds of thousands of them, so moving each into
/// place (and its block into it) would cost more than everything else the builder does.
#[derive(Default)]
pub struct Builder {
    /// The open blocks, innermost last; the statements of each.
    stack: Vec<Frame>,
    /// Top-level statements: `top[..done]` are complete; after them may come one statement
    /// still being read, or one without a block that a `{` on the next line may still open.
    top: Vec<Statement>,
    done: usize,
    /// Whether the last statement of the innermost level is still taking arguments (its line
    /// has not ended).
    in_statement: bool,
    /// `{` seen beyond `MAX_DEPTH` and not yet closed: their contents stay in the deepest block.
    overflow: usize,
    /// The current line when statements starting on it keep their raw text ([`Statement::raw`]).
    raw_line: Option<CompactString>,
}

impl Builder {
    /// Feeds one token.
    pub fn token(&mut self, token: Token, span: Span, diags: &mut Diagnostics) {
        match token {
            Token::Word { text, col } => {
                let word = Word { text, span };
                if self.in_statement {
                    if let Some(s) = self.level().last_mut() {
                        s.args.push(word);
                        return;
                    }
                }
                self.release_held();
                let raw = self
                    .raw_line
                    .as_deref()
                    .and_then(|l| l.get(col.saturating_sub(1) as usize..))
                    .map(CompactString::from);
                self.level().push(Statement { keyword: word, args: Args::new(), block: None, raw });
                self.in_statement = true;
            }
            Token::Open { .. } if self.stack.len() >= MAX_DEPTH => {
                if self.overflow == 0 {
                    diags.error("nesting-too-deep", &span, format!("blocks nested deeper than {MAX_DEPTH}"));
                }
                self.overflow += 1;
                self.in_statement = false;
            }
            Token::Close { .. } if self.overflow > 0 => {
                self.overflow -= 1;
                self.in_statement = false;
            }
            Token::Open { .. } => {
                // The statement on this line; else `{` opening a line belongs to the statement
                // on the line before (at top level only if nothing has followed it).
                let at_top = self.stack.is_empty();
                let done = self.done;
                let in_statement = std::mem::replace(&mut self.in_statement, false);
                let level = self.level();
                let owner = level
                    .len()
                    .checked_sub(1)
                    .filter(|&last| in_statement || (level[last].block.is_none() && (!at_top || last >= done)));
                if owner.is_none() {
                    diags.error("stray-open-brace", &span, "'{' without a keyword before it");
                    let keyword = Word { text: Default::default(), span: span.clone() };
                    level.push(Statement { keyword, args: Args::new(), block: None, raw: None });
                }
                self.stack.push(Frame { items: Vec::new(), open: span });
            }
            Token::Close { .. } => {
                self.in_statement = false;
                match self.stack.pop() {
                    Some(frame) => self.close(frame),
                    None => {
                        self.release_held();
                        diags.error("unbalanced-close-brace", &span, "'}' closes no block");
                    }
                }
            }
        }
    }

    /// Starts a line: statements on it keep its raw text when it has a `\` or a `'`.
    pub fn start_line(&mut self, line: &str) {
        self.raw_line = memchr::memchr2(b'\\', b'\'', line.as_bytes()).map(|_| CompactString::from(line));
    }

    /// Ends the current line.
    pub fn end_line(&mut self) {
        self.in_statement = false;
        self.raw_line = None;
    }

    /// Takes the top-level statements completed so far.
    pub fn take_ready(&mut self) -> std::vec::Drain<'_, Statement> {
        let done = std::mem::take(&mut self.done);
        self.top.drain(..done)
    }

    /// Ends the input: unclosed blocks are reported and closed.
    pub fn finish(&mut self, diags: &mut Diagnostics) {
        self.in_statement = false;
        self.release_held();
        while let Some(frame) = self.stack.pop() {
            let what = self.level().last().map_or_else(|| "a block".into(), describe);
            diags.error(
                "unclosed-block",
                &frame.open,
                format!("'{{' of {what} is never closed (missing '}}' for the block opened here)"),
            );
            self.close(frame);
        }
    }

    /// The statements of the innermost open block, or the top level.
    fn level(&mut self) -> &mut Vec<Statement> {
        match self.stack.last_mut() {
            Some(f) => &mut f.items,
            None => &mut self.top,
        }
    }

    /// At top level, a statement waiting for a `{` on the next line is complete after all.
    fn release_held(&mut self) {
        if self.stack.is_empty() {
            self.done = self.top.len();
        }
    }

    /// Gives a closed block to its statement, the last of the enclosing level.
    fn close(&mut self, frame: Frame) {
        if let Some(owner) = self.level().last_mut() {
            owner.block = Some(Block { open: frame.open, items: frame.items });
        }
        self.release_held();
    }
}

fn describe(s: &Statement) -> String {
    match s.args.first() {
        Some(a) => format!("'{} {}'", s.name(), a),
        None if s.name().is_empty() => "a block".into(),
        None => format!("'{}'", s.name()),
    }
}
