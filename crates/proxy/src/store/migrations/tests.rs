//! The shared runner on both databases, with a test-only list: applied once and in order
//! after the frozen versions, resumed after a crash between two migrations, and a store
//! newer than the list refused.

use super::*;
use crate::store::suite::wait;
use crate::store::{postgres, sqlite, PgStore, SqliteStore};
use sea_query::{Alias, ColumnDef, Index, Table};

fn table(dialect: Dialect) -> Vec<String> {
    let builder = schema_builder(dialect);
    vec![
        Table::create()
            .table(Alias::new("shared_test"))
            .col(
                ColumnDef::new(Alias::new("id"))
                    .text()
                    .not_null()
                    .primary_key(),
            )
            // A time, as the module's rule says: milliseconds since the epoch.
            .col(ColumnDef::new(Alias::new("at_ms")).big_integer().not_null())
            .build_any(builder),
        Index::create()
            .name("shared_test_at")
            .table(Alias::new("shared_test"))
            .col(Alias::new("at_ms"))
            .build_any(builder),
    ]
}

fn column(dialect: Dialect) -> Vec<String> {
    vec![Table::alter()
        .table(Alias::new("shared_test"))
        .add_column(ColumnDef::new(Alias::new("note")).text())
        .build_any(schema_builder(dialect))]
}

/// A migration that fails half-way (a process killed mid-migration ends the same way: its
/// transaction never commits): its first statement must not survive.
fn broken(_: Dialect) -> Vec<String> {
    vec![
        "CREATE TABLE shared_half (x BIGINT)".into(),
        "CREATE TABLE shared_test (x BIGINT)".into(),
    ]
}

const GOOD: &[Migration] = &[
    Migration {
        name: "a table",
        statements: table,
    },
    Migration {
        name: "a column",
        statements: column,
    },
];

const CRASHING: &[Migration] = &[
    Migration {
        name: "a table",
        statements: table,
    },
    Migration {
        name: "a crash",
        statements: broken,
    },
];

async fn pg_version(client: &deadpool_postgres::Object) -> usize {
    let row = client
        .query_one("SELECT version FROM checkout_schema", &[])
        .await
        .expect("version");
    usize::try_from(row.get::<_, i32>(0)).expect("positive")
}

async fn pg_has(client: &deadpool_postgres::Object, table: &str) -> bool {
    client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .await
        .expect("to_regclass")
        .get::<_, bool>(0)
}

fn sqlite_version(conn: &rusqlite::Connection) -> usize {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("version")
}

fn sqlite_has(conn: &rusqlite::Connection, table: &str) -> bool {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |row| row.get::<_, i64>(0),
    )
    .expect("sqlite_master")
        == 1
}

#[test]
fn the_shared_list_runs_once_in_order_after_sqlites_frozen_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("checkout.sqlite");
    drop(SqliteStore::open(&path).expect("a new store"));
    let mut conn = rusqlite::Connection::open(&path).expect("open");
    let frozen = sqlite::FROZEN;
    assert_eq!(sqlite_version(&conn), crate::store::SQLITE_SCHEMA_VERSION);
    assert_eq!(crate::store::SQLITE_SCHEMA_VERSION, frozen + SHARED.len());

    // Killed between two migrations: the first is kept with its version, the second left
    // nothing behind.
    assert!(apply_sqlite(&mut conn, frozen, CRASHING).is_err());
    assert_eq!(sqlite_version(&conn), frozen + 1);
    assert!(sqlite_has(&conn, "shared_test"));
    assert!(!sqlite_has(&conn, "shared_half"));

    // Resumed: only the second runs (the first again would fail: its table exists).
    apply_sqlite(&mut conn, frozen, GOOD).expect("resume");
    assert_eq!(sqlite_version(&conn), frozen + 2);
    conn.execute(
        "INSERT INTO shared_test (id, at_ms, note) VALUES ('a', 1764000000123, 'n')",
        [],
    )
    .expect("the new column is there");
    apply_sqlite(&mut conn, frozen, GOOD).expect("nothing left to do");
    assert_eq!(sqlite_version(&conn), frozen + 2);

    // A store newer than the list is refused, and left as it is.
    conn.pragma_update(None, "user_version", frozen + 3)
        .expect("bump");
    assert!(matches!(
        apply_sqlite(&mut conn, frozen, GOOD),
        Err(StoreError::TooNew { found, known }) if found == frozen + 3 && known == frozen + 2
    ));
    assert_eq!(sqlite_version(&conn), frozen + 3);
    drop(conn);
    assert!(matches!(
        SqliteStore::open(&path),
        Err(StoreError::TooNew { found, known })
            if found == frozen + 3 && known == crate::store::SQLITE_SCHEMA_VERSION
    ));
}

#[test]
fn the_shared_list_runs_once_in_order_after_postgresqls_frozen_one() {
    let url = postgres::tests::empty_database();
    let frozen = postgres::FROZEN;
    assert_eq!(crate::store::POSTGRES_SCHEMA_VERSION, frozen + SHARED.len());
    wait(async {
        let store = PgStore::connect(&url, 2).await.expect("a new store");
        let mut client = store.client().await.expect("client");
        assert_eq!(
            pg_version(&client).await,
            crate::store::POSTGRES_SCHEMA_VERSION
        );

        assert!(apply_postgres(&mut client, frozen, CRASHING).await.is_err());
        assert_eq!(pg_version(&client).await, frozen + 1);
        assert!(pg_has(&client, "shared_test").await);
        assert!(!pg_has(&client, "shared_half").await);

        apply_postgres(&mut client, frozen, GOOD)
            .await
            .expect("resume");
        assert_eq!(pg_version(&client).await, frozen + 2);
        client
            .execute(
                "INSERT INTO shared_test (id, at_ms, note) VALUES ('a', 1764000000123, 'n')",
                &[],
            )
            .await
            .expect("the new column is there");
        apply_postgres(&mut client, frozen, GOOD)
            .await
            .expect("nothing left to do");
        assert_eq!(pg_version(&client).await, frozen + 2);

        let newer = i32::try_from(frozen + 3).expect("small");
        client
            .execute("UPDATE checkout_schema SET version = $1", &[&newer])
            .await
            .expect("bump");
        assert!(matches!(
            apply_postgres(&mut client, frozen, GOOD).await,
            Err(StoreError::TooNew { found, known }) if found == frozen + 3 && known == frozen + 2
        ));
        assert_eq!(pg_version(&client).await, frozen + 3);
        drop(client);
        assert!(matches!(
            PgStore::connect(&url, 2).await,
            Err(StoreError::TooNew { found, known })
                if found == frozen + 3 && known == crate::store::POSTGRES_SCHEMA_VERSION
        ));
    });
}
