//! Turning token lines into a tree of statements: a keyword, its arguments on the same line,
//! and an optional `{ ... }` block (which may open on the next line, as keepalived allows).
//! The builder is fed line by line and hands out each top-level statement as soon as it is
//! complete, so a large file is never held as a whole tree.

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

struct Frame {
    stmt: Statement,
    items: Vec<Statement>,
    open: Span,
}

/// Builds statements from tokens; brace mistakes become diagnostics, never panics.
#[derive(Default)]
pub struct Builder {
    stack: Vec<Frame>,
    current: Option<Statement>,
    /// The last complete top-level statement without a block: a `{` on the next line may
    /// still open its block.
    held: Option<Statement>,
    ready: Vec<Statement>,
    /// `{` seen beyond `MAX_DEPTH` and not yet closed: their contents stay in the deepest block.
    overflow: usize,
}

impl Builder {
    /// Feeds one token.
    pub fn token(&mut self, token: Token, span: Span, diags: &mut Diagnostics) {
        match token {
            Token::Word { text, .. } => {
                let word = Word { text, span };
                match self.current.as_mut() {
                    Some(s) => s.args.push(word),
                    None => {
                        self.release_held();
                        self.current = Some(Statement { keyword: word, args: Args::new(), block: None })
                    }
                }
            }
            Token::Open { .. } if self.stack.len() >= MAX_DEPTH => {
                if self.overflow == 0 {
                    diags.error("nesting-too-deep", &span, format!("blocks nested deeper than {MAX_DEPTH}"));
                }
                self.overflow += 1;
                self.end_statement();
            }
            Token::Close { .. } if self.overflow > 0 => {
                self.overflow -= 1;
                self.end_statement();
            }
            Token::Open { .. } => {
                let stmt = match self.current.take() {
                    Some(s) => Some(s),
                    // `{` opening a line belongs to the keyword on the line before.
                    None => match self.stack.last_mut() {
                        Some(f) if f.items.last().is_some_and(|s| s.block.is_none()) => f.items.pop(),
                        Some(_) => None,
                        None => self.held.take(),
                    },
                };
                let stmt = stmt.unwrap_or_else(|| {
                    diags.error("stray-open-brace", &span, "'{' without a keyword before it");
                    Statement {
                        keyword: Word { text: Default::default(), span: span.clone() },
                        args: Args::new(),
                        block: None,
                    }
                });
                self.stack.push(Frame { stmt, items: Vec::new(), open: span });
            }
            Token::Close { .. } => {
                self.end_statement();
                self.release_held();
                match self.stack.pop() {
                    Some(frame) => self.close(frame),
                    None => diags.error("unbalanced-close-brace", &span, "'}' closes no block"),
                }
            }
        }
    }

    /// Ends the current line.
    pub fn end_line(&mut self) {
        self.end_statement();
    }

    /// Takes the top-level statements completed so far.
    pub fn take_ready(&mut self) -> std::vec::Drain<'_, Statement> {
        self.ready.drain(..)
    }

    /// Ends the input: unclosed blocks are reported and closed.
    pub fn finish(&mut self, diags: &mut Diagnostics) {
        self.end_statement();
        self.release_held();
        while let Some(frame) = self.stack.pop() {
            let what = describe(&frame.stmt);
            diags.error(
                "unclosed-block",
                &frame.open,
                format!("'{{' of {what} is never closed (missing '}}' for the block opened here)"),
            );
            self.close(frame);
        }
    }

    fn release_held(&mut self) {
        if let Some(s) = self.held.take() {
            self.ready.push(s);
        }
    }

    fn end_statement(&mut self) {
        if let Some(s) = self.current.take() {
            self.place(s);
        }
    }

    fn place(&mut self, s: Statement) {
        match self.stack.last_mut() {
            Some(f) => f.items.push(s),
            None if s.block.is_none() => {
                self.release_held();
                self.held = Some(s);
            }
            None => {
                self.release_held();
                self.ready.push(s);
            }
        }
    }

    fn close(&mut self, frame: Frame) {
        let mut stmt = frame.stmt;
        stmt.block = Some(Block { open: frame.open, items: frame.items });
        self.place(stmt);
    }
}

fn describe(s: &Statement) -> String {
    match s.args.first() {
        Some(a) => format!("'{} {}'", s.name(), a),
        None if s.name().is_empty() => "a block".into(),
        None => format!("'{}'", s.name()),
    }
}
