//! The shared list's runner on PostgreSQL: after the frozen list, with the same counter
//! (`checkout_schema.version`), one transaction per migration. Its caller holds the
//! migration advisory lock, so of several proxies starting at once one migrates.

use super::{shared_applied, Migration};
use crate::store::db::Dialect;
use crate::store::StoreError;

async fn version(client: &deadpool_postgres::Object) -> Result<usize, StoreError> {
    let row = client
        .query_one("SELECT version FROM checkout_schema", &[])
        .await?;
    usize::try_from(row.try_get::<_, i32>(0)?)
        .map_err(|_| StoreError::Corrupt("negative schema version".into()))
}

/// Applies what `list` has that the database has not run yet; its `frozen` versions must
/// have run already.
pub(crate) async fn apply_postgres(
    client: &mut deadpool_postgres::Object,
    frozen: usize,
    list: &[Migration],
) -> Result<(), StoreError> {
    let applied = version(client).await?;
    if applied < frozen {
        return Err(StoreError::Corrupt(format!(
            "schema version {applied}: the frozen migrations (to {frozen}) have not run"
        )));
    }
    let done = shared_applied(applied, frozen, list)?;
    for (index, migration) in list.iter().enumerate().skip(done) {
        let tx = client.transaction().await?;
        for statement in (migration.statements)(Dialect::Postgres) {
            tx.batch_execute(&statement).await?;
        }
        let version = frozen.saturating_add(index).saturating_add(1);
        let stored = i32::try_from(version)
            .map_err(|_| StoreError::Corrupt(format!("schema version {version} is too big")))?;
        tx.execute("UPDATE checkout_schema SET version = $1", &[&stored])
            .await?;
        tx.commit().await?;
        tracing::info!(
            version,
            migration = migration.name,
            "PostgreSQL schema migrated"
        );
    }
    Ok(())
}
