//! fjall's journal, fsynced outside fjall's journal lock.
//!
//! Every commit takes that lock, and fjall's own `persist(SyncData)` holds
//! it through the fsync, so any write (and the queue lock its caller holds
//! while committing) waited 0.4–6 ms behind each one. Here the lock is held
//! only to hand the journal buffer to the OS; the active journal file is
//! then fdatasynced through a descriptor of our own (an fsync on any
//! descriptor of a file covers the file). A journal sealed in between was
//! fully fsynced by fjall when it rotated, before the next one was created.

use std::fs::File;
use std::path::PathBuf;

use fjall::{Keyspace, PersistMode};

use crate::engine::Journal;

pub(super) struct FjallJournal {
    keyspace: Keyspace,
    /// fjall's `journals/` folder: files named by increasing id.
    dir: PathBuf,
    /// The newest journal file, opened by us: (id, file).
    open: Option<(u64, File)>,
}

impl FjallJournal {
    pub(super) fn new(keyspace: Keyspace, dir: PathBuf) -> FjallJournal {
        FjallJournal { keyspace, dir, open: None }
    }

    /// The id of the active journal: the highest-numbered file.
    fn newest(&self) -> std::io::Result<u64> {
        let mut newest = None;
        for entry in std::fs::read_dir(&self.dir)? {
            if let Some(id) = entry?.file_name().to_str().and_then(|n| n.parse::<u64>().ok()) {
                newest = newest.max(Some(id));
            }
        }
        newest.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no journal file"))
    }
}

impl Journal for FjallJournal {
    /// Under the journal lock, briefly: the buffered batches go to the OS.
    fn hand_to_os(&mut self) -> std::result::Result<(), String> {
        self.keyspace.persist(PersistMode::Buffer).map_err(|e| e.to_string())
    }

    /// Without the lock: what was handed over is in the newest file, or in
    /// one that rotation fsynced. fjall names a rotated journal by the next
    /// id, so after one listing at the start a sync only has to look for
    /// the file after the one it holds (a stat, not a directory read).
    fn sync_data(&mut self) -> std::result::Result<(), String> {
        let mut newest = match &self.open {
            Some((id, _)) => *id,
            None => self.newest().map_err(|e| format!("listing {}: {e}", self.dir.display()))?,
        };
        while self.dir.join((newest + 1).to_string()).exists() {
            newest += 1;
        }
        if self.open.as_ref().is_none_or(|(id, _)| *id != newest) {
            let path = self.dir.join(newest.to_string());
            let file = File::open(&path).map_err(|e| format!("opening {}: {e}", path.display()))?;
            self.open = Some((newest, file));
        }
        let (id, file) = self.open.as_ref().expect("opened above");
        file.sync_data().map_err(|e| format!("fdatasync of journal {id}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, PartitionKind};
    use crate::fjall_engine::FjallEngine;
    use crate::guard::Guard;

    /// After a memtable rotation fjall writes to a new journal file: the
    /// next sync must fsync that one, found without listing the directory.
    #[test]
    fn sync_follows_the_journal_across_rotations() {
        let dir = std::env::temp_dir().join(format!("eddy-journal-{}", crate::unique()));
        let engine = FjallEngine::open(&dir, 64, Guard::new(0)).unwrap();
        let table = engine.open("t", PartitionKind::Records).unwrap();
        let mut journal = FjallJournal::new(engine.keyspace.clone(), dir.join("journals"));
        let write = |key: &[u8]| {
            let mut batch = engine.batch();
            batch.put(&*table, key.to_vec(), b"v".to_vec());
            batch.commit().unwrap();
        };
        write(b"a");
        journal.hand_to_os().unwrap();
        journal.sync_data().unwrap();
        let first = journal.open.as_ref().unwrap().0;
        for (round, key) in [b"b", b"c"].iter().enumerate() {
            assert!(table.flush_memtable().unwrap(), "a memtable with a write rotates");
            write(*key);
            journal.hand_to_os().unwrap();
            journal.sync_data().unwrap();
            assert_eq!(journal.open.as_ref().unwrap().0, first + 1 + round as u64);
            assert_eq!(journal.newest().unwrap(), first + 1 + round as u64);
        }
        drop((table, engine));
        let _ = std::fs::remove_dir_all(dir);
    }
}
