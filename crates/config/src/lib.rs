//! keepalived.conf, read exactly as keepalived reads it, into a typed model; and diagnostics
//! that say precisely what is wrong, with file and line.
//!
//! The crate is pure apart from reading the files: facts about the host (interfaces, local
//! addresses, script files) come in through [`Host`], so lints are testable without a system.

pub mod announce;
pub mod diag;
pub mod in_order;
mod keywords;
pub mod lexer;
mod lints;
pub mod model;
pub mod peers;
pub mod reuse;
mod source;
pub mod span;
pub mod tree;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::reuse::Moved;

pub use diag::{exit_code, Diagnostic, Severity};
pub use model::Config;
pub use span::Span;

/// Errors that stop the configuration from being read at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The main configuration file could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
}

/// What the host looks like, for the checks keepalived makes against the running system.
pub trait Host {
    /// Whether a network interface of this name exists.
    fn interface_exists(&self, name: &str) -> bool;
    /// Addresses configured on the host's interfaces.
    fn local_addresses(&self) -> Vec<IpAddr>;
    /// Whether a script path exists and is executable; `None` when unknown.
    fn executable(&self, path: &Path) -> Option<bool>;
    /// Whether a user of this name exists.
    fn user_exists(&self, name: &str) -> bool;
    /// Whether a group of this name exists (unknown: yes).
    fn group_exists(&self, _name: &str) -> bool {
        true
    }
    /// How many CPUs are online (unknown: `None`).
    fn cpus_online(&self) -> Option<usize> {
        None
    }
}

/// How to read the configuration.
#[derive(Clone, Debug)]
pub struct Options {
    /// Selects `@ID` lines (`-i/--config-id`; keepalived defaults to the host name's first part).
    pub config_id: String,
    /// Seed for `${_RANDOM}`.
    pub random_seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { config_id: String::new(), random_seed: 1 }
    }
}

/// A configuration and everything found wrong or dubious in it.
#[derive(Debug)]
pub struct Parsed {
    pub config: Config,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }
}

/// Reads a configuration file (and its includes).
pub fn parse_file(path: &Path, opts: &Options, host: Option<&dyn Host>) -> Result<Parsed, Error> {
    read_file(path, opts, host, None)
}

/// [`parse_file`] for a reload: each virtual server that says the same as one of `running` is
/// that one, taken as soon as it is read (see [`reuse`]); its positions are the running
/// one's, and the diagnostics of this reading give where this file has it.
pub fn reparse_file(path: &Path, opts: &Options, host: Option<&dyn Host>, running: &Config) -> Result<Parsed, Error> {
    read_file(path, opts, host, Some(running))
}

fn read_file(path: &Path, opts: &Options, host: Option<&dyn Host>, running: Option<&Config>) -> Result<Parsed, Error> {
    let mut diags = diag::Diagnostics::default();
    let mut reader = source::Reader::new(opts, &mut diags).over(running);
    reader.read_root(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    let (config, moved) = reader.finish();
    Ok(finish(config, diags, host, &moved))
}

/// Reads configuration text; `name` is used in diagnostics and to resolve includes.
pub fn parse_str(name: &str, text: &str, opts: &Options, host: Option<&dyn Host>) -> Parsed {
    read_str(name, text, opts, host, None)
}

/// [`parse_str`] over a running configuration, as [`reparse_file`] reads.
#[cfg(test)]
pub(crate) fn reparse_str(name: &str, text: &str, host: Option<&dyn Host>, running: &Config) -> Parsed {
    read_str(name, text, &Options::default(), host, Some(running))
}

fn read_str(name: &str, text: &str, opts: &Options, host: Option<&dyn Host>, running: Option<&Config>) -> Parsed {
    let mut diags = diag::Diagnostics::default();
    let mut reader = source::Reader::new(opts, &mut diags).over(running);
    reader.read_text(Arc::from(Path::new(name)), text);
    let (config, moved) = reader.finish();
    finish(config, diags, host, &moved)
}

fn finish(mut config: Config, mut diags: diag::Diagnostics, host: Option<&dyn Host>, moved: &Moved) -> Parsed {
    let mut ctx = keywords::Ctx::new(&mut diags);
    keywords::finish(&mut ctx, &mut config, moved);
    // Grown by pushes, it holds up to twice its length (megabytes at 10,000 virtual servers).
    config.virtual_servers.shrink_to_fit();
    lints::run(&config, &mut diags, host, moved);
    let mut diagnostics = diags.into_vec();
    diagnostics.sort_by_cached_key(|d| (d.span.file.path(), d.span.line, d.span.col));
    Parsed { config, diagnostics }
}
