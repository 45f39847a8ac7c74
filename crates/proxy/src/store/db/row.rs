//! A row as the store's written-once code reads it: owned values looked up by column name,
//! whichever database sent them. A value that is missing or of the wrong type is
//! [`StoreError::Corrupt`] naming its column, never a panic and never a driver's error.

use super::super::{to_u64, StoreError};
use std::sync::Arc;
use time::OffsetDateTime;

/// One column's value, owned (the connection is given back before the row is read).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
    /// PostgreSQL's `boolean` (SQLite keeps 0 and 1 as [`Value::Int`]).
    Bool(bool),
    /// PostgreSQL's `jsonb` (SQLite keeps JSON as [`Value::Text`]).
    Json(serde_json::Value),
    /// PostgreSQL's `timestamptz` (SQLite keeps unix seconds or milliseconds as
    /// [`Value::Int`]: see [`Unit`]).
    Time(OffsetDateTime),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int(_) => "integer",
            Value::Real(_) => "real",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
            Value::Bool(_) => "boolean",
            Value::Json(_) => "json",
            Value::Time(_) => "timestamp",
        }
    }
}

/// What a time kept as an integer counts (the frozen SQLite schema: a payment's own times in
/// seconds, the outbox's and the links' in milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Seconds,
    Millis,
}

impl Unit {
    pub(crate) fn to_int(self, at: OffsetDateTime) -> i64 {
        match self {
            Unit::Seconds => at.unix_timestamp(),
            Unit::Millis => {
                i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
            }
        }
    }

    fn time_of(self, n: i64) -> Option<OffsetDateTime> {
        match self {
            Unit::Seconds => OffsetDateTime::from_unix_timestamp(n).ok(),
            Unit::Millis => {
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(n) * 1_000_000).ok()
            }
        }
    }
}

/// A row: its statement's column names (shared by every row of one result) and its values.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

fn corrupt(column: &str, what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("column {column}: {what}"))
}

fn mistyped(column: &str, wanted: &str, found: &Value) -> StoreError {
    corrupt(
        column,
        format_args!("expected {wanted}, found {}", found.kind()),
    )
}

impl Row {
    pub(crate) fn new(columns: Arc<[String]>, values: Vec<Value>) -> Row {
        Row { columns, values }
    }

    /// The value of `column`; a column the statement did not return is corrupt.
    fn value(&self, column: &str) -> Result<&Value, StoreError> {
        self.columns
            .iter()
            .position(|name| name == column)
            .and_then(|at| self.values.get(at))
            .ok_or_else(|| corrupt(column, "missing from the row"))
    }

    /// `Some` unless the value is NULL.
    fn present(&self, column: &str) -> Result<Option<&Value>, StoreError> {
        Ok(match self.value(column)? {
            Value::Null => None,
            value => Some(value),
        })
    }

    fn required<T>(
        &self,
        column: &str,
        read: impl FnOnce(&str) -> Result<Option<T>, StoreError>,
    ) -> Result<T, StoreError> {
        read(column)?.ok_or_else(|| corrupt(column, "is NULL"))
    }

    pub(crate) fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        match self.present(column)? {
            None => Ok(None),
            Some(Value::Text(text)) => Ok(Some(text.clone())),
            Some(other) => Err(mistyped(column, "text", other)),
        }
    }

    pub(crate) fn text(&self, column: &str) -> Result<String, StoreError> {
        self.required(column, |c| self.opt_text(c))
    }

    pub(crate) fn opt_i64(&self, column: &str) -> Result<Option<i64>, StoreError> {
        match self.present(column)? {
            None => Ok(None),
            Some(Value::Int(n)) => Ok(Some(*n)),
            Some(other) => Err(mistyped(column, "integer", other)),
        }
    }

    pub(crate) fn i64(&self, column: &str) -> Result<i64, StoreError> {
        self.required(column, |c| self.opt_i64(c))
    }

    /// A count or an amount: never negative.
    pub(crate) fn opt_u64(&self, column: &str) -> Result<Option<u64>, StoreError> {
        self.opt_i64(column)?
            .map(|n| to_u64(n).map_err(|_| corrupt(column, format_args!("negative {n}"))))
            .transpose()
    }

    pub(crate) fn u64(&self, column: &str) -> Result<u64, StoreError> {
        self.required(column, |c| self.opt_u64(c))
    }

    pub(crate) fn opt_u32(&self, column: &str) -> Result<Option<u32>, StoreError> {
        self.opt_i64(column)?
            .map(|n| {
                u32::try_from(n).map_err(|_| corrupt(column, format_args!("{n} is out of range")))
            })
            .transpose()
    }

    /// A boolean: PostgreSQL's own, or SQLite's 0 and 1.
    pub(crate) fn bool(&self, column: &str) -> Result<bool, StoreError> {
        match self.present(column)? {
            None => Err(corrupt(column, "is NULL")),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::Int(0)) => Ok(false),
            Some(Value::Int(1)) => Ok(true),
            Some(other) => Err(mistyped(column, "boolean", other)),
        }
    }

    /// A time: PostgreSQL's `timestamptz`, or SQLite's integer counting `unit`.
    pub(crate) fn opt_time(
        &self,
        column: &str,
        unit: Unit,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        match self.present(column)? {
            None => Ok(None),
            Some(Value::Time(at)) => Ok(Some(*at)),
            Some(Value::Int(n)) => unit
                .time_of(*n)
                .map(Some)
                .ok_or_else(|| corrupt(column, format_args!("time {n} is out of range"))),
            Some(other) => Err(mistyped(column, "time", other)),
        }
    }

    pub(crate) fn time(&self, column: &str, unit: Unit) -> Result<OffsetDateTime, StoreError> {
        self.required(column, |c| self.opt_time(c, unit))
    }

    /// JSON: PostgreSQL's `jsonb`, or SQLite's text.
    pub(crate) fn opt_json<T: serde::de::DeserializeOwned>(
        &self,
        column: &str,
    ) -> Result<Option<T>, StoreError> {
        let parsed = match self.present(column)? {
            None => return Ok(None),
            Some(Value::Json(value)) => T::deserialize(value).map_err(|e| corrupt(column, e)),
            Some(Value::Text(text)) => serde_json::from_str(text).map_err(|e| corrupt(column, e)),
            Some(other) => Err(mistyped(column, "json", other)),
        };
        parsed.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: Vec<(&str, Value)>) -> Row {
        let (names, values): (Vec<String>, Vec<Value>) =
            values.into_iter().map(|(n, v)| (n.to_owned(), v)).unzip();
        Row::new(names.into(), values)
    }

    fn corrupt_message(result: Result<impl std::fmt::Debug, StoreError>) -> String {
        match result {
            Err(StoreError::Corrupt(message)) => message,
            other => panic!("not corrupt: {other:?}"),
        }
    }

    #[test]
    fn values_are_read_by_name_whatever_their_order() {
        let r = row(vec![
            ("active", Value::Int(1)),
            ("title", Value::Text("Kopi".into())),
            ("created_at", Value::Int(1_764_000_000_123)),
            ("metadata", Value::Text("{\"a\":\"b\"}".into())),
            ("expires_at", Value::Null),
        ]);
        assert_eq!(r.text("title").expect("title"), "Kopi");
        assert!(r.bool("active").expect("active"));
        assert_eq!(
            r.time("created_at", Unit::Millis).expect("time"),
            OffsetDateTime::from_unix_timestamp_nanos(1_764_000_000_123_000_000).expect("ms")
        );
        assert_eq!(r.opt_time("expires_at", Unit::Millis).expect("null"), None);
        let metadata: Option<std::collections::BTreeMap<String, String>> =
            r.opt_json("metadata").expect("json");
        assert_eq!(
            metadata.expect("some").get("a").map(String::as_str),
            Some("b")
        );
    }

    #[test]
    fn a_missing_column_is_corrupt_and_named() {
        let r = row(vec![("title", Value::Text("Kopi".into()))]);
        let message = corrupt_message(r.text("description"));
        assert!(message.contains("description"), "{message}");
        assert!(message.contains("missing"), "{message}");
    }

    #[test]
    fn a_mistyped_or_null_value_is_corrupt_and_named() {
        let r = row(vec![
            ("amount", Value::Text("ten".into())),
            ("paid_count", Value::Int(-1)),
            ("title", Value::Null),
            ("active", Value::Int(7)),
        ]);
        let message = corrupt_message(r.opt_i64("amount"));
        assert!(
            message.contains("amount") && message.contains("text"),
            "{message}"
        );
        let message = corrupt_message(r.u64("paid_count"));
        assert!(
            message.contains("paid_count") && message.contains("negative"),
            "{message}"
        );
        let message = corrupt_message(r.text("title"));
        assert!(
            message.contains("title") && message.contains("NULL"),
            "{message}"
        );
        let message = corrupt_message(r.bool("active"));
        assert!(message.contains("active"), "{message}");
    }
}
