//! `staff add | list | remove | set-password` and `audit list`: the shop's people managed
//! from the command line (there is no sign-up page), in the same store the servers use, while
//! they run. Passwords come on standard input's first line, never as an argument (which
//! `ps` and shell history would show).

use super::{say, CliError, CliStore, StoreArg};
use paydigital_proxy::domain::staff::{Email, Password, Role};
use paydigital_proxy::metrics::Metrics;
use paydigital_proxy::staff::{Staff, StaffError};
use std::io::BufRead;
use std::time::Duration;

#[derive(clap::Subcommand)]
pub enum StaffCommand {
    /// Add an account; the password is read from standard input's first line.
    Add {
        email: String,
        /// owner (everything) or cashier (the counter and today's payments).
        #[arg(long, value_parser = role_arg)]
        role: Role,
        /// Read the password from standard input (required: it is never an argument).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        store: StoreArg,
    },
    /// List the accounts.
    List {
        #[command(flatten)]
        store: StoreArg,
    },
    /// Remove an account; its sessions end at once.
    Remove {
        email: String,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Set a new password (from standard input's first line); every session of the account ends.
    SetPassword {
        email: String,
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        store: StoreArg,
    },
}

#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// The audit log, newest first.
    List {
        /// How many lines.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[command(flatten)]
        store: StoreArg,
    },
}

fn role_arg(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("{text:?} is not a role: owner or cashier"))
}

fn email_arg(text: &str) -> Result<Email, CliError> {
    Email::parse(text).map_err(|e| CliError::Usage(e.to_string()))
}

/// Standard input's first line, as a password.
fn password_from_stdin() -> Result<Password, CliError> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        CliError::Failed(format!("cannot read the password from standard input: {e}"))
    })?;
    Password::new(&line).map_err(|e| CliError::Usage(e.to_string()))
}

fn service(store: &CliStore) -> Staff {
    // The idle timeout is the server's business; the CLI never reads a session.
    Staff::new(
        store.store.clone(),
        Duration::from_secs(1),
        std::sync::Arc::new(Metrics::new("cli")),
    )
}

fn failed(e: StaffError) -> CliError {
    match e {
        StaffError::Invalid(e) => CliError::Usage(e.to_string()),
        e => CliError::Failed(e.to_string()),
    }
}

pub fn run(command: StaffCommand) -> Result<(), CliError> {
    match command {
        StaffCommand::Add {
            email, role, store, ..
        } => {
            let email = email_arg(&email)?;
            let password = password_from_stdin()?;
            let store = store.open_or_create()?;
            store
                .block_on(service(&store).add(email.clone(), role, password))
                .map_err(failed)?;
            say(&format!("{email} added as {}", role.as_str()));
        }
        StaffCommand::List { store } => {
            let store = store.open()?;
            let members = store.block_on(service(&store).list()).map_err(failed)?;
            for m in &members {
                say(&format!(
                    "{:<40} {:<8} since {}",
                    m.email.as_str(),
                    m.role.as_str(),
                    m.created_at.date()
                ));
            }
            if members.is_empty() {
                say("no accounts: add the first owner with `paydigital-proxy staff add EMAIL --role owner --password-stdin`");
            }
        }
        StaffCommand::Remove { email, store } => {
            let email = email_arg(&email)?;
            let store = store.open()?;
            store
                .block_on(service(&store).remove(email.clone()))
                .map_err(failed)?;
            say(&format!("{email} removed; their sessions have ended"));
        }
        StaffCommand::SetPassword { email, store, .. } => {
            let email = email_arg(&email)?;
            let password = password_from_stdin()?;
            let store = store.open()?;
            store
                .block_on(service(&store).set_password(email.clone(), password))
                .map_err(failed)?;
            say(&format!("{email}: password set; their sessions have ended"));
        }
    }
    Ok(())
}

pub fn audit(command: AuditCommand) -> Result<(), CliError> {
    let AuditCommand::List { limit, store } = command;
    let store = store.open()?;
    let zone = super::zone()?;
    let lines = store
        .block_on(service(&store).audit_log(None, limit.clamp(1, 10_000)))
        .map_err(failed)?;
    for line in lines {
        let e = line.entry;
        // What a stranger typed as an email is kept (tidied) in the log: printed escaped, it
        // cannot move a terminal's cursor or forge a line.
        let printable = |text: &str| text.escape_debug().to_string();
        say(&format!(
            "{}  {:<32} {:<18} {:<30} {}",
            paydigital::wire::rfc3339(e.at, zone),
            printable(&e.actor),
            e.action,
            printable(&e.subject.unwrap_or_default()),
            e.ip.unwrap_or_default()
        ));
    }
    Ok(())
}
