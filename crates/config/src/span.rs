//! Source positions that survive `include`: every word and item knows its file, line and column.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use compact_str::CompactString;
use serde::Serialize;

/// A position in a configuration file (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Span {
    /// The file as it was named (the command line's path, or the include pattern's match).
    #[serde(serialize_with = "serialize_path")]
    pub file: Arc<Path>,
    pub line: u32,
    pub col: u32,
}

fn serialize_path<S: serde::Serializer>(path: &Arc<Path>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&path.display().to_string())
}

impl Span {
    pub fn new(file: Arc<Path>, line: u32, col: u32) -> Self {
        Span { file, line, col }
    }

    /// A span for things that have no place in a file (defaults, generated items).
    pub fn detached(what: &str) -> Self {
        Span::new(Arc::from(PathBuf::from(what)), 0, 0)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// A word of the configuration with the place it came from. Most keepalived words are short,
/// so they are stored inline (no allocation up to 24 bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub text: CompactString,
    pub span: Span,
}

impl Word {
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
