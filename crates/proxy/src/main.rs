//! `paydigital-proxy`: serve the checkout, run the sandbox, read the books and the webhook
//! outbox, move a store to PostgreSQL, check a QRIS code. Each command is in `cli/`.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run(cli::Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}
