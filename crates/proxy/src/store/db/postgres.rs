//! The layer's PostgreSQL side, fully async: each statement on a pooled connection, prepared
//! once per connection; a transaction holds its connection from `BEGIN` to `COMMIT`. One
//! dropped uncommitted (an error, a cancelled request) is rolled back before its connection
//! goes back to the pool, or its connection is closed (which rolls it back too).

use super::super::StoreError;
use super::row::{Row, Value};
use deadpool_postgres::{Object, Pool};
use sea_query_postgres::{PostgresValue, PostgresValues};
use std::sync::Arc;
use tokio_postgres::types::Type;

/// A statement ready to run: SQL with `$n` placeholders and its values.
pub(super) struct Bound {
    pub(super) sql: String,
    pub(super) values: PostgresValues,
}

impl Bound {
    pub(super) fn new(sql: String, values: sea_query::Values) -> Bound {
        Bound {
            sql,
            values: PostgresValues(values.into_iter().map(PostgresValue).collect()),
        }
    }
}

/// Where statements run: a pooled connection, or the transaction `migrate --to` holds.
pub(super) enum On<'a> {
    Client(&'a deadpool_postgres::ClientWrapper),
    Transaction(&'a deadpool_postgres::Transaction<'a>),
}

impl On<'_> {
    async fn statement(&self, sql: &str) -> Result<tokio_postgres::Statement, StoreError> {
        Ok(match self {
            On::Client(client) => client.prepare_cached(sql).await?,
            On::Transaction(tx) => tx.prepare_cached(sql).await?,
        })
    }

    pub(super) async fn query(&self, bound: &Bound) -> Result<Vec<Row>, StoreError> {
        let statement = self.statement(&bound.sql).await?;
        let params = bound.values.as_params();
        let rows = match self {
            On::Client(client) => client.query(&statement, &params).await?,
            On::Transaction(tx) => tx.query(&statement, &params).await?,
        };
        let columns: Arc<[String]> = statement
            .columns()
            .iter()
            .map(|c| c.name().to_owned())
            .collect();
        rows.iter().map(|row| owned(&columns, row)).collect()
    }

    pub(super) async fn execute(&self, bound: &Bound) -> Result<u64, StoreError> {
        let statement = self.statement(&bound.sql).await?;
        let params = bound.values.as_params();
        Ok(match self {
            On::Client(client) => client.execute(&statement, &params).await?,
            On::Transaction(tx) => tx.execute(&statement, &params).await?,
        })
    }
}

/// A row's values by their PostgreSQL types: the types the store's schema uses.
fn owned(columns: &Arc<[String]>, row: &tokio_postgres::Row) -> Result<Row, StoreError> {
    let mut values = Vec::with_capacity(columns.len());
    for (at, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let value = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(at)?.map(Value::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(at)?
                .map(|n| Value::Int(n.into()))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(at)?
                .map(|n| Value::Int(n.into()))
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(at)?.map(Value::Bool)
        } else if *ty == Type::TEXT || *ty == Type::VARCHAR || *ty == Type::NAME {
            row.try_get::<_, Option<String>>(at)?.map(Value::Text)
        } else if *ty == Type::JSONB || *ty == Type::JSON {
            row.try_get::<_, Option<serde_json::Value>>(at)?
                .map(Value::Json)
        } else if *ty == Type::TIMESTAMPTZ {
            row.try_get::<_, Option<time::OffsetDateTime>>(at)?
                .map(Value::Time)
        } else if *ty == Type::FLOAT8 {
            row.try_get::<_, Option<f64>>(at)?.map(Value::Real)
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(at)?.map(Value::Bytes)
        } else {
            return Err(StoreError::Corrupt(format!(
                "column {}: PostgreSQL type {ty} is not one the store reads",
                column.name()
            )));
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(Row::new(columns.clone(), values))
}

/// A connection from the pool; none in time: the database is unreachable.
pub(super) async fn client(pool: &Pool) -> Result<Object, StoreError> {
    Ok(pool.get().await?)
}

/// An open transaction on its own pooled connection.
pub(crate) struct PgTx {
    /// `None` once committed (or handed to the rollback).
    client: Option<Object>,
}

impl PgTx {
    pub(super) async fn begin(pool: &Pool) -> Result<PgTx, StoreError> {
        let client = client(pool).await?;
        client.batch_execute("BEGIN").await?;
        Ok(PgTx {
            client: Some(client),
        })
    }

    pub(super) fn on(&self) -> Result<On<'_>, StoreError> {
        self.client
            .as_deref()
            .map(On::Client)
            .ok_or_else(|| StoreError::Stopped("the transaction has ended".into()))
    }

    pub(super) async fn commit(mut self) -> Result<(), StoreError> {
        let client = self
            .client
            .take()
            .ok_or_else(|| StoreError::Stopped("the transaction has ended".into()))?;
        client.batch_execute("COMMIT").await?;
        Ok(())
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        // Drop cannot wait: the rollback is sent from a task, and the connection goes back
        // to the pool only once it is out of the transaction. Without a runtime (it is
        // shutting down), or if the rollback fails, the connection is closed instead, which
        // ends the transaction on the server.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                drop(runtime.spawn(async move {
                    if client.batch_execute("ROLLBACK").await.is_err() {
                        drop(Object::take(client));
                    }
                }));
            }
            Err(_) => drop(Object::take(client)),
        }
    }
}
