//! Source positions that survive `include`: every word and item knows its file, line and column.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use compact_str::CompactString;
use serde::Serialize;

/// A configuration file, interned: a span carries this small copyable handle instead of a
/// reference-counted path, so the hundreds of thousands of words of a large file cost no atomic
/// operations. The table only grows with distinct file names, which a daemon re-reading the
/// same files does not make.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(u32);

static FILES: Mutex<Vec<Arc<Path>>> = Mutex::new(Vec::new());

impl FileId {
    /// The handle of `path`, registering it the first time.
    pub fn intern(path: &Path) -> FileId {
        let mut files = FILES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let idx = match files.iter().position(|p| p.as_ref() == path) {
            Some(i) => i,
            None => {
                files.push(Arc::from(path));
                files.len() - 1
            }
        };
        FileId(u32::try_from(idx).unwrap_or(u32::MAX))
    }

    /// The file's path, as it was named.
    pub fn path(self) -> Arc<Path> {
        let files = FILES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        files.get(self.0 as usize).cloned().unwrap_or_else(|| Arc::from(Path::new("?")))
    }

    /// Displays the path.
    pub fn display(self) -> impl fmt::Display {
        DisplayPath(self.path())
    }
}

struct DisplayPath(Arc<Path>);

impl fmt::Display for DisplayPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.display(), f)
    }
}

/// A position in a configuration file (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Span {
    /// The file as it was named (the command line's path, or the include pattern's match).
    #[serde(serialize_with = "serialize_file")]
    pub file: FileId,
    pub line: u32,
    pub col: u32,
}

fn serialize_file<S: serde::Serializer>(file: &FileId, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&file.display().to_string())
}

impl Span {
    pub fn new(file: FileId, line: u32, col: u32) -> Self {
        Span { file, line, col }
    }

    /// A span for things that have no place in a file (defaults, generated items).
    pub fn detached(what: &str) -> Self {
        Span::new(FileId::intern(Path::new(what)), 0, 0)
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

/// Whether two parts of a configuration say the same thing, wherever they are written: their
/// `Debug` forms compared with every [`Span`] left out.  A reload uses it to tell an unchanged
/// block that only moved (lines added above it) from a changed one.
pub fn same_ignoring_spans<T: fmt::Debug>(a: &T, b: &T) -> bool {
    without_spans(&format!("{a:?}")) == without_spans(&format!("{b:?}"))
}

/// `text` without its `Span { .. }` parts (a span holds no braces of its own).
fn without_spans(text: &str) -> String {
    const OPEN: &str = "Span {";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        rest = after.find('}').map_or("", |end| &after[end + 1..]);
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Script;

    fn script(word: &str, file: &str, line: u32) -> Script {
        let span = Span::new(FileId::intern(Path::new(file)), line, 5);
        Script { argv: vec![word.into()], user: None, group: None, span }
    }

    #[test]
    fn positions_do_not_count() {
        let a = (script("/bin/check", "a.conf", 3), Some(Span::new(FileId::intern(Path::new("a.conf")), 4, 1)));
        let moved = (script("/bin/check", "b.conf", 30), Some(Span::new(FileId::intern(Path::new("b.conf")), 31, 2)));
        let changed = (script("/bin/other", "a.conf", 3), Some(Span::new(FileId::intern(Path::new("a.conf")), 4, 1)));
        let no_inner = (script("/bin/check", "a.conf", 3), None);
        assert!(same_ignoring_spans(&a, &moved));
        assert!(!same_ignoring_spans(&a, &changed));
        assert!(!same_ignoring_spans(&a, &no_inner));
    }
}
