//! keepalived's pid files (`-p`, `-r`): written at start, removed at exit.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// A pid file that is removed when dropped.
pub struct PidFile(PathBuf);

impl PidFile {
    /// Writes this process's pid to `path`.
    pub fn create(path: &Path) -> anyhow::Result<PidFile> {
        std::fs::write(path, format!("{}\n", std::process::id()))
            .with_context(|| format!("writing pid file {}", path.display()))?;
        Ok(PidFile(path.to_path_buf()))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
