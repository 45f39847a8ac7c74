//! The drivers' errors, classified once into the store's own [`StoreError`]: what happened
//! (not found, conflict, unavailable and why, corrupt), so that nothing above `store/` ever
//! looks at a SQLite result code or a PostgreSQL SQLSTATE. Written by hand, not derived, so
//! that `?` on a driver call keeps working everywhere in `store/`.

use super::types::{StoreError, Unavailability};
use rusqlite::ErrorCode;

/// The server's own words for an error it reported (its message and SQLSTATE; never the
/// `DETAIL`, which can quote stored values), else the client's.
fn postgres_detail(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        let detail = e.to_string();
        match &e {
            rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
                // Immediate (SQLite reports ENOSPC as it happens): a create answers at once.
                ErrorCode::DiskFull => StoreError::unavailable(Unavailability::DiskFull, detail),
                // Only after the busy timeout: another connection held the lock throughout.
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                    StoreError::unavailable(Unavailability::Busy, detail)
                }
                ErrorCode::SystemIoFailure => StoreError::unavailable(Unavailability::Io, detail),
                ErrorCode::ReadOnly => StoreError::unavailable(Unavailability::ReadOnly, detail),
                ErrorCode::CannotOpen | ErrorCode::PermissionDenied => {
                    StoreError::unavailable(Unavailability::CannotOpen, detail)
                }
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => StoreError::Corrupt(detail),
                ErrorCode::ConstraintViolation => StoreError::Conflict(detail),
                _ => StoreError::Query(detail),
            },
            rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound(detail),
            // A stored value that does not decode as the schema says.
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::Utf8Error(..) => StoreError::Corrupt(detail),
            _ => StoreError::Query(detail),
        }
    }
}

/// What a SQLSTATE says happened (its class, the first two characters, mostly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SqlClass {
    Unavailable(Unavailability),
    Conflict,
    Corrupt,
    Other,
}

fn classify_sqlstate(code: &str) -> SqlClass {
    match code {
        "53100" => SqlClass::Unavailable(Unavailability::DiskFull),
        "25006" => SqlClass::Unavailable(Unavailability::ReadOnly),
        "58030" => SqlClass::Unavailable(Unavailability::Io),
        "XX001" | "XX002" => SqlClass::Corrupt,
        // Serialization failures, deadlocks, lock timeouts: retried, they pass.
        "55P03" | "57014" => SqlClass::Unavailable(Unavailability::Busy),
        // admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting down),
        // the database dropped under us.
        "57P01" | "57P02" | "57P03" | "57P04" => SqlClass::Unavailable(Unavailability::Unreachable),
        _ => match code.get(..2) {
            Some("08") => SqlClass::Unavailable(Unavailability::Unreachable),
            Some("40") | Some("53") => SqlClass::Unavailable(Unavailability::Busy),
            Some("23") => SqlClass::Conflict,
            _ => SqlClass::Other,
        },
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> StoreError {
        // tokio-postgres says only "db error" for what the server refused: the server's
        // message (which constraint, which column) is what an operator needs in the log.
        let detail = postgres_detail(&e);
        if let Some(db) = e.as_db_error() {
            return match classify_sqlstate(db.code().code()) {
                SqlClass::Unavailable(reason) => StoreError::unavailable(reason, detail),
                SqlClass::Conflict => StoreError::Conflict(detail),
                SqlClass::Corrupt => StoreError::Corrupt(detail),
                SqlClass::Other => StoreError::Query(detail),
            };
        }
        // Not the server's answer: tokio-postgres's own kinds are private, its words are not.
        let said = detail.as_str();
        if said.starts_with("error deserializing") {
            StoreError::Corrupt(detail)
        } else if said.starts_with("error serializing") {
            StoreError::Query(detail)
        } else if said.starts_with("query returned an unexpected number of rows") {
            StoreError::NotFound(detail)
        } else {
            // The connection broke under the query (a database restart, a network cut), or
            // could not be made.
            StoreError::unavailable(Unavailability::Unreachable, detail)
        }
    }
}

/// No connection could be had in time (or made): the database is down or unreachable.
impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> StoreError {
        let detail = match &e {
            deadpool_postgres::PoolError::Backend(e) => postgres_detail(e),
            e => e.to_string(),
        };
        StoreError::unavailable(Unavailability::Unreachable, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::ffi;

    fn sqlite(code: std::ffi::c_int) -> StoreError {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), None).into()
    }

    #[test]
    fn each_reason_is_written_as_healthz_names_it() {
        for reason in Unavailability::ALL {
            assert_eq!(
                serde_json::to_value(reason).expect("serializes"),
                serde_json::json!(reason.as_str())
            );
        }
    }

    #[test]
    fn each_sqlite_code_is_its_reason() {
        for (code, reason) in [
            (ffi::SQLITE_FULL, Unavailability::DiskFull),
            (ffi::SQLITE_BUSY, Unavailability::Busy),
            (ffi::SQLITE_BUSY_SNAPSHOT, Unavailability::Busy),
            (ffi::SQLITE_LOCKED, Unavailability::Busy),
            (ffi::SQLITE_IOERR, Unavailability::Io),
            (ffi::SQLITE_IOERR_WRITE, Unavailability::Io),
            (ffi::SQLITE_IOERR_FSYNC, Unavailability::Io),
            (ffi::SQLITE_READONLY, Unavailability::ReadOnly),
            (ffi::SQLITE_CANTOPEN, Unavailability::CannotOpen),
            (ffi::SQLITE_PERM, Unavailability::CannotOpen),
        ] {
            let e = sqlite(code);
            assert_eq!(e.unavailability(), Some(reason), "code {code}: {e:?}");
            assert!(e.to_string().starts_with(reason.describe()), "{e}");
        }
    }

    #[test]
    fn damage_conflicts_and_the_rest_are_not_unavailability() {
        for code in [ffi::SQLITE_CORRUPT, ffi::SQLITE_NOTADB] {
            assert!(
                matches!(sqlite(code), StoreError::Corrupt(_)),
                "code {code}"
            );
        }
        for code in [
            ffi::SQLITE_CONSTRAINT_UNIQUE,
            ffi::SQLITE_CONSTRAINT_PRIMARYKEY,
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY,
        ] {
            assert!(
                matches!(sqlite(code), StoreError::Conflict(_)),
                "code {code}"
            );
        }
        assert!(matches!(sqlite(ffi::SQLITE_ERROR), StoreError::Query(_)));
        assert!(matches!(
            StoreError::from(rusqlite::Error::QueryReturnedNoRows),
            StoreError::NotFound(_)
        ));
        assert!(matches!(
            StoreError::from(rusqlite::Error::InvalidColumnType(
                0,
                "amount".into(),
                rusqlite::types::Type::Text
            )),
            StoreError::Corrupt(_)
        ));
    }

    #[test]
    fn a_real_sqlite_constraint_violation_is_a_conflict() {
        let db = rusqlite::Connection::open_in_memory().expect("db");
        db.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY); INSERT INTO t VALUES ('a');")
            .expect("table");
        let clash = db
            .execute("INSERT INTO t VALUES ('a')", [])
            .expect_err("clash");
        assert!(matches!(StoreError::from(clash), StoreError::Conflict(_)));
    }

    #[test]
    fn each_sqlstate_is_its_class() {
        let unavailable = |reason| SqlClass::Unavailable(reason);
        for (code, class) in [
            ("57P01", unavailable(Unavailability::Unreachable)), // admin_shutdown
            ("57P02", unavailable(Unavailability::Unreachable)), // crash_shutdown
            ("57P03", unavailable(Unavailability::Unreachable)), // cannot_connect_now
            ("08006", unavailable(Unavailability::Unreachable)), // connection_failure
            ("53100", unavailable(Unavailability::DiskFull)),
            ("53300", unavailable(Unavailability::Busy)), // too_many_connections
            ("40001", unavailable(Unavailability::Busy)), // serialization_failure
            ("40P01", unavailable(Unavailability::Busy)), // deadlock_detected
            ("55P03", unavailable(Unavailability::Busy)), // lock_not_available
            ("25006", unavailable(Unavailability::ReadOnly)),
            ("58030", unavailable(Unavailability::Io)),
            ("23505", SqlClass::Conflict), // unique_violation
            ("23503", SqlClass::Conflict), // foreign_key_violation
            ("XX001", SqlClass::Corrupt),  // data_corrupted
            ("42P01", SqlClass::Other),    // undefined_table: a bug, not a fault
            ("", SqlClass::Other),
        ] {
            assert_eq!(classify_sqlstate(code), class, "{code}");
        }
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable() {
        // Port 9 (discard) on localhost: nothing listens there in a test machine.
        let e = tokio_postgres::connect(
            "host=127.0.0.1 port=9 user=x dbname=x connect_timeout=2",
            tokio_postgres::NoTls,
        )
        .await
        .map(|_| ())
        .expect_err("nothing listens");
        assert_eq!(
            StoreError::from(e).unavailability(),
            Some(Unavailability::Unreachable)
        );
    }
}
