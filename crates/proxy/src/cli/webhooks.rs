//! `webhooks list | resend | new-secret`: the outbox read and nudged from the store, beside a
//! running proxy (which sends what is queued).

use super::{say, CliError, StoreArg};
use paydigital_proxy::store::{DeliveryState, EventFilter};

#[derive(clap::Subcommand)]
pub enum WebhooksCommand {
    /// List events, oldest first, with how their delivery went.
    List {
        /// Only events still waiting for delivery.
        #[arg(long, conflicts_with = "failed")]
        pending: bool,
        /// Only events whose retries ran out.
        #[arg(long)]
        failed: bool,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Queue an event for delivery now, with the same webhook-id (the running server sends it).
    Resend {
        /// The event id, evt_...
        event_id: String,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Print a new signing secret for CHECKOUT_WEBHOOK_SECRET.
    NewSecret,
}

/// Events are read this many at a time.
const PAGE: usize = 500;

pub fn run(command: WebhooksCommand) -> Result<(), CliError> {
    let text = match command {
        WebhooksCommand::NewSecret => paydigital_proxy::webhooks::new_secret(),
        WebhooksCommand::Resend { event_id, store } => {
            let store = store.open()?;
            let now = time::OffsetDateTime::now_utc();
            match store.block_on(store.events().resend(&event_id, now)) {
                Ok(true) => {
                    format!("{event_id} queued: the running proxy sends it within a second")
                }
                Ok(false) => return Err(CliError::Failed(format!("no event {event_id}"))),
                Err(e) => return Err(CliError::Failed(e.to_string())),
            }
        }
        WebhooksCommand::List {
            pending,
            failed,
            store,
        } => {
            let state = match (pending, failed) {
                (true, _) => Some(DeliveryState::Pending),
                (_, true) => Some(DeliveryState::Failed),
                _ => None,
            };
            list(&store, state)?
        }
    };
    say(&text);
    Ok(())
}

fn list(store: &StoreArg, state: Option<DeliveryState>) -> Result<String, CliError> {
    let store = store.open()?;
    let zone = super::zone()?;
    let mut out = format!(
        "{:<26}  {:<16}  {:<26}  {:<9}  {:>8}  {:<25}  {}\n",
        "EVENT", "TYPE", "PAYMENT", "STATE", "ATTEMPTS", "LAST ATTEMPT", "LAST STATUS"
    );
    let mut after_id = None;
    loop {
        let filter = EventFilter {
            after_id,
            state,
            limit: PAGE,
        };
        let page = store
            .block_on(store.events().list_events(&filter))
            .map_err(|e| CliError::Failed(e.to_string()))?;
        for e in &page {
            out.push_str(&format!(
                "{:<26}  {:<16}  {:<26}  {:<9}  {:>8}  {:<25}  {}\n",
                e.id,
                e.event_type,
                e.payment_id,
                e.state.as_str(),
                e.attempts,
                e.last_attempt_at
                    .map(|at| paydigital::wire::rfc3339(at, zone))
                    .unwrap_or_default(),
                e.last_status.as_deref().unwrap_or("")
            ));
        }
        if page.len() < PAGE {
            break;
        }
        after_id = page.last().map(|e| e.id.clone());
    }
    Ok(out.trim_end().to_owned())
}
