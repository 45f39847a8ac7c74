//! The store's SQL said once, run on either database: the executor layer the store's
//! aggregates are written on (payment links first: `store/links/`).
//!
//! - Statements are built with sea-query; [`Db`] (or a [`Tx`]) picks SQLite's or PostgreSQL's
//!   query builder, so placeholders, quoting and upserts are sea-query's job, and the values
//!   are bound by sea-query-rusqlite / sea-query-postgres.
//! - Rows come back owned and are read by column name ([`row::Row`]): a missing or mistyped
//!   value is `StoreError::Corrupt` naming its column.
//! - What differs between the two databases and their (frozen) schemas and that sea-query
//!   does not say is one method of [`dialect::Dialect`] each: how a time or JSON is kept, the
//!   insertion-order column, row locks.
//! - Everything is async with transactions: SQLite's one connection (the same lock the older
//!   blocking code in `store/sqlite.rs` takes, so the two never interleave) runs statements
//!   on the blocking pool and a transaction on one blocking thread from `BEGIN IMMEDIATE` to
//!   its end (`db/sqlite.rs`); PostgreSQL runs on the deadpool pool, no `block_on` anywhere
//!   (`db/postgres.rs`). A transaction dropped uncommitted rolls back.
//!
//! # Moving the rest of the store onto this layer
//! Each remaining aggregate becomes an async trait implemented once over [`Db`], as
//! `LinkStore` is; what differs between the dialects, and so needs a `Dialect` method:
//! - **payments** (insert, get, list, transition, checked, review, dump/import): times are
//!   unix seconds on SQLite and `timestamptz` on PostgreSQL (`Dialect::time` with
//!   `Unit::Seconds`), metadata text vs `jsonb` (`Dialect::json`), `rowid` vs `seq` for pages
//!   (`Dialect::insertion_order`); search's `lower()` is ASCII on SQLite and Unicode on
//!   PostgreSQL (a `Dialect::lower` to make them agree, e.g. lowering in Rust on both);
//!   `paid_by_day` groups by day in a zone (date arithmetic differs: one `Dialect` method).
//! - **checks and upstream budget** (`claim_due_checks`, `claim_refresh`,
//!   `take_upstream_call`): PostgreSQL claims with `FOR UPDATE SKIP LOCKED` (sea-query:
//!   `lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)`, dropped on SQLite whose
//!   IMMEDIATE transaction is the only writer) and reads the database clock (`now()`) where
//!   SQLite takes the caller's `now`: one `Dialect::now` giving the expression.
//! - **events and deliveries** (`claim_due_events`, `record_attempt`, `resend`, feeds): the
//!   same `SKIP LOCKED` and clock; times in milliseconds (`Unit::Millis`).
//! - **idempotency claims**: an upsert whose `WHERE` re-checks staleness (sea-query's
//!   `OnConflict` with `action_and_where`), the same on both.
//! - **staff and sessions**: `ON DELETE CASCADE` exists on PostgreSQL only today (delete the
//!   sessions explicitly in the transaction on both); the sign-in limiter's count-and-insert
//!   needs the same serialisation as link reservations (IMMEDIATE on SQLite, a row or
//!   advisory lock on PostgreSQL: a `Dialect` method).
//! - **migrations**: the old lists stay frozen; the next schema change starts the one shared
//!   list (sea-query's `Table`/`Index` statements build both dialects' DDL), applied after
//!   the frozen ones with each database's version counter continuing. Links needed none.
//!
//! Hot reads (a payment's status by id, what `make bench` measures) should be [`Fixed`]
//! statements, as the link read by id is: sea-query building and rendering a statement at
//! every call costs more CPU than SQLite's answer (a link read: 23 µs before the layer,
//! 60 µs rebuilt each call, 25-29 µs as `Fixed`, release build). A payment read by id
//! (`store/payments`, `Fixed`, from an async task on a SQLite file, 100 000 in a row):
//! 5.5-6.2 µs of CPU before the layer, 7.7-8.7 µs on it; the difference is mostly
//! allocation (each read's 25 column names and its text values copied once more out of the
//! owned [`Row`]). The status read `make bench` measures is answered from the service's
//! cache (`payments/cache.rs`): the store is read on a miss and once per refresh window.
//!
//! Until an aggregate moves, its blocking code keeps running beside this layer on the same
//! connection (SQLite) or pool (PostgreSQL).

pub(crate) mod dialect;
mod postgres;
pub(crate) mod row;
mod sqlite;

pub(crate) use dialect::{Clock, Dialect};
pub(crate) use row::{Row, Unit};
pub(crate) use sqlite::Shared;

use super::StoreError;
use sea_query::QueryStatementWriter;
use std::future::Future;
use std::sync::OnceLock;

/// One of the two databases, to run statements on.
#[derive(Clone)]
pub(crate) enum Db {
    /// The store's one connection, shared with `SqliteStore`'s blocking code.
    Sqlite(Shared),
    Postgres(deadpool_postgres::Pool),
}

impl Db {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The rows `statement` returns.
    pub(crate) fn query<S: QueryStatementWriter>(
        &self,
        statement: &S,
    ) -> impl Future<Output = Result<Vec<Row>, StoreError>> + Send + '_ {
        // Built before the future, so that it holds only the SQL and its values.
        let (sql, values) = statement.build_any(self.dialect().builder());
        self.rows(sql, values)
    }

    /// The rows `statement` returns with `values` (in the order its SQL takes them).
    pub(crate) async fn query_fixed(
        &self,
        statement: &Fixed,
        values: Vec<sea_query::Value>,
    ) -> Result<Vec<Row>, StoreError> {
        let (sql, values) = statement.with(self.dialect(), values)?;
        self.rows(sql, values).await
    }

    async fn rows(&self, sql: String, values: sea_query::Values) -> Result<Vec<Row>, StoreError> {
        match self {
            Db::Sqlite(conn) => sqlite::query(conn, sqlite::Bound::new(sql, values)).await,
            Db::Postgres(pool) => {
                let client = postgres::client(pool).await?;
                postgres::On::Client(&client)
                    .query(&postgres::Bound::new(sql, values))
                    .await
            }
        }
    }

    /// How many rows `statement` changed.
    pub(crate) fn execute<S: QueryStatementWriter>(
        &self,
        statement: &S,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send + '_ {
        let (sql, values) = statement.build_any(self.dialect().builder());
        async move {
            match self {
                Db::Sqlite(conn) => sqlite::execute(conn, sqlite::Bound::new(sql, values)).await,
                Db::Postgres(pool) => {
                    let client = postgres::client(pool).await?;
                    postgres::On::Client(&client)
                        .execute(&postgres::Bound::new(sql, values))
                        .await
                }
            }
        }
    }

    /// Fails when the store cannot be used now, naming why: on SQLite the faults probe (a
    /// read, the write lock within a moment, room on its disk: `store/sqlite_faults.rs`), on
    /// PostgreSQL a `SELECT 1` on a pooled connection.
    pub(crate) async fn probe(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(conn) => sqlite::probe(conn).await,
            Db::Postgres(pool) => {
                let client = postgres::client(pool).await?;
                postgres::On::Client(&client)
                    .query(&postgres::Bound::new(
                        "SELECT 1".to_owned(),
                        sea_query::Values(Vec::new()),
                    ))
                    .await?;
                Ok(())
            }
        }
    }

    /// Where the row `id` of `table` stands in insertion order: the cursor a list's next page
    /// continues after (payments, links). An id the store does not have is `UnknownCursor`.
    pub(crate) async fn position_of(&self, table: &str, id: &str) -> Result<i64, StoreError> {
        let select = sea_query::Query::select()
            .expr_as(
                sea_query::Expr::col(self.dialect().insertion_order()),
                sea_query::Alias::new("position"),
            )
            .from(sea_query::Alias::new(table))
            .and_where(sea_query::Expr::col(sea_query::Alias::new("id")).eq(id))
            .to_owned();
        self.query(&select)
            .await?
            .first()
            .ok_or_else(|| StoreError::UnknownCursor(id.to_owned()))?
            .i64("position")
    }

    /// Begins a transaction: written whole by [`Tx::commit`], or not at all.
    pub(crate) async fn begin(&self) -> Result<Tx<'static>, StoreError> {
        Ok(match self {
            Db::Sqlite(conn) => Tx::Sqlite(sqlite::SqliteTx::begin(conn).await?),
            Db::Postgres(pool) => Tx::Postgres(Box::new(postgres::PgTx::begin(pool).await?)),
        })
    }
}

/// A statement of one shape whose values alone change (a read on a hot path): its SQL is
/// rendered once per dialect, where building and rendering it at every call would cost
/// more than the query (a link read: 25 µs of CPU before the layer, 60-80 µs with the SQL
/// rebuilt each time). Its values are given in the order its SQL takes them.
pub(crate) struct Fixed {
    build: fn() -> sea_query::SelectStatement,
    sqlite: OnceLock<(String, usize)>,
    postgres: OnceLock<(String, usize)>,
}

impl Fixed {
    /// `build` makes the statement with a placeholder value where each value goes.
    pub(crate) const fn new(build: fn() -> sea_query::SelectStatement) -> Fixed {
        Fixed {
            build,
            sqlite: OnceLock::new(),
            postgres: OnceLock::new(),
        }
    }

    /// Its SQL in `dialect` with `values`; as many values as it has placeholders, or an error.
    fn with(
        &self,
        dialect: Dialect,
        values: Vec<sea_query::Value>,
    ) -> Result<(String, sea_query::Values), StoreError> {
        let rendered = match dialect {
            Dialect::Sqlite => &self.sqlite,
            Dialect::Postgres => &self.postgres,
        };
        let (sql, wanted) = rendered.get_or_init(|| {
            let (sql, placeholders) = (self.build)().build_any(dialect.builder());
            (sql, placeholders.0.len())
        });
        if values.len() != *wanted {
            return Err(StoreError::Build(format!(
                "{wanted} values wanted, {} given",
                values.len()
            )));
        }
        Ok((sql.clone(), sea_query::Values(values)))
    }
}

/// An open transaction. Dropped without [`Tx::commit`], it rolls back.
pub(crate) enum Tx<'a> {
    Sqlite(sqlite::SqliteTx),
    /// Boxed: a pooled connection is large beside the SQLite side's channel.
    Postgres(Box<postgres::PgTx>),
    /// A transaction the older PostgreSQL code holds (`migrate --to` writes links in the
    /// same transaction as payments); its owner commits it.
    PostgresWithin(&'a deadpool_postgres::Transaction<'a>),
}

impl<'a> Tx<'a> {
    /// Statements run in `tx`, which its owner commits.
    pub(crate) fn within(tx: &'a deadpool_postgres::Transaction<'a>) -> Tx<'a> {
        Tx::PostgresWithin(tx)
    }

    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Tx::Sqlite(_) => Dialect::Sqlite,
            Tx::Postgres(_) | Tx::PostgresWithin(_) => Dialect::Postgres,
        }
    }

    fn on_postgres(&self) -> Result<postgres::On<'_>, StoreError> {
        match self {
            Tx::Postgres(tx) => tx.on(),
            Tx::PostgresWithin(tx) => Ok(postgres::On::Transaction(tx)),
            Tx::Sqlite(_) => Err(StoreError::Stopped("not a PostgreSQL transaction".into())),
        }
    }

    /// The rows `statement` returns.
    pub(crate) fn query<S: QueryStatementWriter>(
        &self,
        statement: &S,
    ) -> impl Future<Output = Result<Vec<Row>, StoreError>> + Send + '_ {
        let (sql, values) = statement.build_any(self.dialect().builder());
        async move {
            match self {
                Tx::Sqlite(tx) => tx.query(sqlite::Bound::new(sql, values)).await,
                _ => {
                    self.on_postgres()?
                        .query(&postgres::Bound::new(sql, values))
                        .await
                }
            }
        }
    }

    /// How many rows `statement` changed.
    pub(crate) fn execute<S: QueryStatementWriter>(
        &self,
        statement: &S,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send + '_ {
        let (sql, values) = statement.build_any(self.dialect().builder());
        async move {
            match self {
                Tx::Sqlite(tx) => tx.execute(sqlite::Bound::new(sql, values)).await,
                _ => {
                    self.on_postgres()?
                        .execute(&postgres::Bound::new(sql, values))
                        .await
                }
            }
        }
    }

    /// Writes everything the transaction did (one it runs within: left to its owner).
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => (*tx).commit().await,
            Tx::PostgresWithin(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_query::{Alias, Expr, Query};

    static BY_ID: Fixed = Fixed::new(|| {
        Query::select()
            .column(Alias::new("title"))
            .from(Alias::new("payment_links"))
            .and_where(Expr::col(Alias::new("id")).eq(""))
            .to_owned()
    });

    #[test]
    fn a_fixed_statement_is_rendered_per_dialect_and_takes_exactly_its_values() {
        let (sql, values) = BY_ID
            .with(Dialect::Postgres, vec!["plink_1".into()])
            .expect("one value");
        assert!(sql.ends_with(r#"WHERE "id" = $1"#), "{sql}");
        assert_eq!(values.0, vec![sea_query::Value::from("plink_1")]);
        let (sql, _) = BY_ID
            .with(Dialect::Sqlite, vec!["plink_1".into()])
            .expect("one value");
        assert!(sql.ends_with(r#"WHERE "id" = ?"#), "{sql}");
        for wrong in [vec![], vec!["a".into(), "b".into()]] {
            assert!(matches!(
                BY_ID.with(Dialect::Sqlite, wrong),
                Err(StoreError::Build(_))
            ));
        }
    }

    /// `x` of every row of `t`, in order.
    async fn xs(db: &Db) -> Vec<i64> {
        let select = Query::select()
            .column(Alias::new("x"))
            .from(Alias::new("t"))
            .order_by(Alias::new("x"), sea_query::Order::Asc)
            .to_owned();
        let rows = db.query(&select).await.expect("select");
        rows.iter().map(|r| r.i64("x").expect("x")).collect()
    }

    #[test]
    fn a_sqlite_transaction_is_written_whole_or_not_at_all_and_frees_the_connection() {
        let conn = rusqlite::Connection::open_in_memory().expect("open");
        conn.execute_batch("CREATE TABLE t (x INTEGER NOT NULL)")
            .expect("table");
        let shared: Shared = std::sync::Arc::new(std::sync::Mutex::new(conn));
        let db = Db::Sqlite(shared.clone());
        let insert = |x: i64| {
            Query::insert()
                .into_table(Alias::new("t"))
                .columns([Alias::new("x")])
                .values([x.into()])
                .expect("one value")
                .to_owned()
        };
        crate::store::suite::wait(async {
            let dropped = db.begin().await.expect("begin");
            assert_eq!(dropped.execute(&insert(1)).await.expect("insert"), 1);
            drop(dropped);
            let failed = db.begin().await.expect("begin after a drop");
            failed.execute(&insert(2)).await.expect("insert");
            let refused = Query::insert()
                .into_table(Alias::new("t"))
                .columns([Alias::new("x")])
                .values([sea_query::Value::BigInt(None).into()])
                .expect("one value")
                .to_owned();
            assert!(failed.execute(&refused).await.is_err(), "NOT NULL holds");
            drop(failed);
            let kept = db.begin().await.expect("begin");
            kept.execute(&insert(3)).await.expect("insert");
            kept.commit().await.expect("commit");
            assert_eq!(xs(&db).await, [3]);
        });
        // The blocking code's lock is free again: no transaction is left holding it.
        let count: i64 = shared
            .lock()
            .expect("lock")
            .query_row("SELECT COUNT(*) FROM t", [], |row| row.get(0))
            .expect("count");
        assert_eq!(count, 1);
    }
}
