//! Diagnostics: keepalived's errors and warnings, plus Vigil's own notes.

use std::fmt;

use serde::Serialize;

use crate::span::Span;

/// How serious a diagnostic is; decides `vigild -t`'s exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Vigil's own lint; keepalived says nothing. Never changes the exit status unless strict.
    Note,
    /// keepalived warns (and carries on): unknown or obsolete keyword, dubious value.
    Warning,
    /// keepalived refuses the value or the structure.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One finding about the configuration, pointing at its source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable identifier, e.g. `unknown-keyword`, for filtering and tests.
    pub code: &'static str,
    pub span: Span,
    pub message: String,
    /// A replacement the user probably meant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// keepalived's security checks failed (script security, include checks): `keepalived -t`
    /// exits 6 when any of these is present.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub security: bool,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.span.line == 0 {
            write!(f, "{}: {}: {}", self.span.file.display(), self.severity, self.message)?;
        } else {
            write!(
                f,
                "{}:{}:{}: {}: {}",
                self.span.file.display(),
                self.span.line,
                self.span.col,
                self.severity,
                self.message
            )?;
        }
        if let Some(s) = &self.suggestion {
            write!(f, " (did you mean '{s}'?)")?;
        }
        write!(f, " [{}]", self.code)
    }
}

/// More diagnostics than this are counted, not kept: a runaway expansion must not turn into
/// millions of messages.
const MAX_DIAGNOSTICS: usize = 10_000;

/// Collects diagnostics while the configuration is read.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    /// How many were dropped past `MAX_DIAGNOSTICS`, and the worst of them.
    dropped: usize,
    dropped_worst: Option<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        if self.items.len() < MAX_DIAGNOSTICS {
            self.items.push(d);
            return;
        }
        self.dropped += 1;
        if self.dropped_worst.as_ref().is_none_or(|w| d.severity > w.severity || (d.security && !w.security)) {
            self.dropped_worst = Some(d);
        }
    }

    fn add(&mut self, severity: Severity, code: &'static str, span: &Span, message: String) {
        self.push(Diagnostic { severity, code, span: span.clone(), message, suggestion: None, security: false });
    }

    pub fn error(&mut self, code: &'static str, span: &Span, message: impl Into<String>) {
        self.add(Severity::Error, code, span, message.into());
    }

    pub fn warning(&mut self, code: &'static str, span: &Span, message: impl Into<String>) {
        self.add(Severity::Warning, code, span, message.into());
    }

    pub fn note(&mut self, code: &'static str, span: &Span, message: impl Into<String>) {
        self.add(Severity::Note, code, span, message.into());
    }

    /// Whether further diagnostics are only counted: callers may skip costly messages.
    pub fn saturated(&self) -> bool {
        self.items.len() >= MAX_DIAGNOSTICS
    }

    /// An error from a failed security check (exit 6).
    pub fn security_error(&mut self, code: &'static str, span: &Span, message: impl Into<String>) {
        self.push(Diagnostic {
            severity: Severity::Error,
            code,
            span: span.clone(),
            message: message.into(),
            suggestion: None,
            security: true,
        });
    }

    /// The diagnostics; past the cap, one more stands for the dropped ones (with the worst
    /// severity among them, so the exit status stays right).
    pub fn into_vec(mut self) -> Vec<Diagnostic> {
        if let Some(mut worst) = self.dropped_worst.take() {
            worst.code = "too-many-diagnostics";
            worst.message = format!(
                "{} more diagnostics not shown (the first follows); fix the ones above first: {}",
                self.dropped, worst.message
            );
            self.items.push(worst);
        }
        self.items
    }
}

/// What `keepalived -t` would exit with for these diagnostics: 6 when a security check failed,
/// else 5 on any error or warning, else 0. With `strict`, notes count as warnings.
pub fn exit_code(diags: &[Diagnostic], strict: bool) -> i32 {
    let counts = |d: &&Diagnostic| d.severity >= Severity::Warning || strict;
    let failing: Vec<&Diagnostic> = diags.iter().filter(counts).collect();
    if failing.iter().any(|d| d.security) {
        6
    } else if failing.is_empty() {
        0
    } else {
        5
    }
}
