//! What tests outside `store/` need to do to a SQLite file behind the store's back (hold its
//! write lock as another process would, break its schema), so that no driver type is named
//! outside this folder. Test builds only.

use std::path::Path;

/// Another connection holding the file's write lock (`BEGIN EXCLUSIVE`) until [`release`]d
/// or dropped: what a second program, or a backup tool, does to the store.
///
/// [`release`]: ExclusiveLock::release
pub(crate) struct ExclusiveLock(rusqlite::Connection);

impl ExclusiveLock {
    pub(crate) fn take(path: &Path) -> ExclusiveLock {
        let other = rusqlite::Connection::open(path).expect("open the store's file");
        other
            .execute_batch("BEGIN EXCLUSIVE")
            .expect("take its write lock");
        ExclusiveLock(other)
    }

    pub(crate) fn release(self) {
        self.0
            .execute_batch("ROLLBACK")
            .expect("release the write lock");
    }
}

/// Runs `sql` on the file from another connection.
pub(crate) fn run_sql(path: &Path, sql: &str) {
    rusqlite::Connection::open(path)
        .and_then(|db| db.execute_batch(sql))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}
