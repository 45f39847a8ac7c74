//! `migrate --to postgres://…`: a SQLite store (payments, events, attempts, payment links,
//! staff, audit log) copied into PostgreSQL, skipping what is already there (so a second run
//! copies nothing).

use super::{say, CliError};
use paydigital_proxy::config;
use paydigital_proxy::store::{Database, PgStore, SqliteStore};
use std::path::PathBuf;

pub fn migrate(to: &str, from: Option<PathBuf>) -> Result<(), CliError> {
    let failed = CliError::Failed;
    let from = match from {
        Some(path) => path,
        None => match config::parse_database(std::env::var("CHECKOUT_DATABASE").ok().as_deref())
            .map_err(|e| failed(e.to_string()))?
        {
            Database::Sqlite(path) => path,
            Database::Postgres(_) => {
                return Err(failed(
                    "CHECKOUT_DATABASE names PostgreSQL: name the SQLite file with --from".into(),
                ))
            }
        },
    };
    let Database::Postgres(url) = Database::parse(to).map_err(|e| failed(e.to_string()))? else {
        return Err(failed(
            "--to must be a PostgreSQL URL (postgres://user:password@host/db)".into(),
        ));
    };
    if !from.exists() {
        return Err(failed(format!("no payment store at {}", from.display())));
    }
    let runtime = super::runtime(1)?;
    let dump = runtime
        .block_on(async { SqliteStore::open(&from)?.dump().await })
        .map_err(|e| failed(format!("cannot read {}: {e}", from.display())))?;
    let imported = runtime
        .block_on(async {
            let store = PgStore::connect(&url, 2).await?;
            store.import(&dump).await
        })
        .map_err(|e| failed(format!("cannot write {url}: {e}")))?;
    say(&format!(
        "{} -> {url}: {} of {} payments, {} of {} events, {} attempts, {} of {} links, {} of {} staff, {} of {} audit lines copied (the rest were there already)",
        from.display(),
        imported.payments,
        dump.payments.len(),
        imported.events,
        dump.events.len(),
        imported.attempts,
        imported.links,
        dump.links.len(),
        imported.staff,
        dump.staff.len(),
        imported.audit,
        dump.audit.len(),
    ));
    Ok(())
}
