//! The layer's SQLite side: the store's one connection behind one lock, shared with the
//! older blocking code (`store/sqlite.rs` borrows the same [`Shared`]), so a statement or a
//! transaction of either never interleaves with the other's. Each statement runs on Tokio's
//! blocking pool. A transaction is one blocking-pool thread that holds the lock and an
//! `IMMEDIATE` transaction from `BEGIN` to its end, running the statements it is sent; if the
//! [`SqliteTx`] is dropped uncommitted (an error, a cancelled request) its channel closes and
//! the thread rolls back.

use super::super::StoreError;
use super::row::{Row, Value};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, TransactionBehavior};
use sea_query_rusqlite::{RusqliteValue, RusqliteValues};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// The store's one connection, as both the blocking and the async code lock it.
pub(crate) type Shared = Arc<Mutex<Connection>>;

/// A statement ready to run: SQL with `?` placeholders and its values.
pub(super) struct Bound {
    pub(super) sql: String,
    pub(super) values: RusqliteValues,
}

impl Bound {
    pub(super) fn new(sql: String, values: sea_query::Values) -> Bound {
        Bound {
            sql,
            values: RusqliteValues(values.into_iter().map(RusqliteValue).collect()),
        }
    }

    /// The rows it returns. Statements are prepared once per connection and cached.
    fn query(&self, conn: &Connection) -> Result<Vec<Row>, StoreError> {
        let mut statement = conn.prepare_cached(&self.sql)?;
        let columns: Arc<[String]> = statement
            .column_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let mut rows = statement.query(self.values.as_params().as_slice())?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(columns.len());
            for (at, name) in columns.iter().enumerate() {
                values.push(owned(name, row.get_ref(at)?)?);
            }
            out.push(Row::new(columns.clone(), values));
        }
        Ok(out)
    }

    /// How many rows it changed.
    fn execute(&self, conn: &Connection) -> Result<u64, StoreError> {
        let changed = conn
            .prepare_cached(&self.sql)?
            .execute(self.values.as_params().as_slice())?;
        Ok(u64::try_from(changed).unwrap_or(u64::MAX))
    }
}

fn owned(column: &str, value: ValueRef<'_>) -> Result<Value, StoreError> {
    Ok(match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Int(n),
        ValueRef::Real(x) => Value::Real(x),
        ValueRef::Text(bytes) => Value::Text(
            String::from_utf8(bytes.to_vec())
                .map_err(|_| StoreError::Corrupt(format!("column {column}: text is not UTF-8")))?,
        ),
        ValueRef::Blob(bytes) => Value::Bytes(bytes.to_vec()),
    })
}

/// A blocking-pool task that ended without answering: it panicked, or the runtime is
/// shutting down.
fn stopped(e: impl std::fmt::Display) -> StoreError {
    StoreError::Stopped(e.to_string())
}

/// `work` on the locked connection, from the blocking pool.
async fn locked<T: Send + 'static>(
    conn: &Shared,
    work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let conn = conn.clone();
    tokio::task::spawn_blocking(move || {
        let conn = conn.lock().map_err(|_| StoreError::Poisoned)?;
        work(&conn)
    })
    .await
    .map_err(stopped)?
}

pub(super) async fn query(conn: &Shared, bound: Bound) -> Result<Vec<Row>, StoreError> {
    locked(conn, move |conn| bound.query(conn)).await
}

pub(super) async fn execute(conn: &Shared, bound: Bound) -> Result<u64, StoreError> {
    locked(conn, move |conn| bound.execute(conn)).await
}

/// The faults probe (`store/sqlite_faults.rs`) on the locked connection.
pub(super) async fn probe(conn: &Shared) -> Result<(), StoreError> {
    locked(conn, super::super::sqlite_faults::probe).await
}

type Job = Box<dyn FnOnce(&Connection) + Send>;

enum Message {
    Run(Job),
    Commit(oneshot::Sender<Result<(), StoreError>>),
}

/// An open `IMMEDIATE` transaction, held by its thread (see the module comment). While it
/// is open, every other use of the connection waits for it: code holding one must run its
/// statements through it, never through the `Db` (that would wait for itself).
pub(crate) struct SqliteTx {
    jobs: mpsc::Sender<Message>,
}

impl SqliteTx {
    /// Waits for the lock (and SQLite's write lock), then begins.
    pub(super) async fn begin(conn: &Shared) -> Result<SqliteTx, StoreError> {
        let (jobs, inbox) = mpsc::channel::<Message>();
        let (ready, begun) = oneshot::channel::<Result<(), StoreError>>();
        let shared = conn.clone();
        // Not awaited: the thread lives as long as the transaction, and reports through
        // `ready` and each job's own answer.
        drop(tokio::task::spawn_blocking(move || {
            let mut conn = match shared.lock() {
                Ok(conn) => conn,
                Err(_) => {
                    let _ = ready.send(Err(StoreError::Poisoned));
                    return;
                }
            };
            // IMMEDIATE: the write lock is taken at BEGIN, so what the transaction reads is
            // still so when it writes (no other writer, in this process or another).
            let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
                Ok(tx) => tx,
                Err(e) => {
                    let _ = ready.send(Err(e.into()));
                    return;
                }
            };
            if ready.send(Ok(())).is_err() {
                return; // Nobody waits for it any more: `tx` rolls back as it drops.
            }
            while let Ok(message) = inbox.recv() {
                match message {
                    Message::Run(job) => job(&tx),
                    Message::Commit(answer) => {
                        let committed = tx.commit().map_err(StoreError::from);
                        // The lock and this thread's share of the connection go before the
                        // answer: once a commit is answered, the connection is free, and a
                        // store dropped then closes its file at once (its WAL folded in).
                        drop(conn);
                        drop(shared);
                        let _ = answer.send(committed);
                        return;
                    }
                }
            }
            // The SqliteTx was dropped uncommitted: `tx` rolls back as it drops.
        }));
        begun.await.map_err(stopped)??;
        Ok(SqliteTx { jobs })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = answer.send(work(conn));
        });
        self.jobs
            .send(Message::Run(job))
            .map_err(|_| stopped("the transaction's thread ended"))?;
        answered.await.map_err(stopped)?
    }

    pub(super) async fn query(&self, bound: Bound) -> Result<Vec<Row>, StoreError> {
        self.run(move |conn| bound.query(conn)).await
    }

    pub(super) async fn execute(&self, bound: Bound) -> Result<u64, StoreError> {
        self.run(move |conn| bound.execute(conn)).await
    }

    pub(super) async fn commit(self) -> Result<(), StoreError> {
        let (answer, answered) = oneshot::channel();
        self.jobs
            .send(Message::Commit(answer))
            .map_err(|_| stopped("the transaction's thread ended"))?;
        answered.await.map_err(stopped)?
    }
}
