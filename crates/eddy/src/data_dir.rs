//! The data directory belongs to one eddy at a time.
//!
//! Two processes on one directory both open the store, each with its own
//! view of the journal; after a restart one's acknowledged writes are gone.
//! An exclusive lock on `eddy.lock` (released by the kernel when the process
//! dies, even by kill -9) makes the second one exit with a clear error.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use anyhow::{bail, Context};

/// Creates the data directory if missing, durably: the new directory
/// entries are fsynced up to the first existing ancestor, so a power cut
/// right after start cannot take the whole directory (and everything
/// acknowledged in it) away.
pub fn create(dir: &Path) -> anyhow::Result<()> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(d) = at.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        missing.push(d);
        at = d.parent();
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating data directory {}", dir.display()))?;
    for d in missing {
        let parent = d.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        File::open(parent)
            .and_then(|p| p.sync_all())
            .with_context(|| format!("syncing {} after creating {}", parent.display(), d.display()))?;
    }
    Ok(())
}

/// Held for the life of the server; dropping it releases the lock.
pub struct DataDirLock {
    _file: File,
}

pub fn lock(dir: &Path) -> anyhow::Result<DataDirLock> {
    let path = dir.join("eddy.lock");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() { String::new() } else { format!(" (pid {holder})") };
            bail!(
                "data directory {} is in use by another eddy{who}; stop it or pass another --data-dir",
                dir.display()
            );
        }
        Err(TryLockError::Error(e)) => return Err(e).with_context(|| format!("locking {}", path.display())),
    }
    // The pid is for the error message above; the lock itself is what counts.
    file.set_len(0)?;
    file.rewind()?;
    write!(file, "{}", std::process::id())?;
    Ok(DataDirLock { _file: file })
}
