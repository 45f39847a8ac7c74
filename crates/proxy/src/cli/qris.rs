//! `qris PAYLOAD`: a QRIS code checked (CRC, structure) and its fields printed as JSON.

use super::{say, CliError};

pub fn qris(payload: &str) -> Result<(), CliError> {
    let code = paydigital::qris::Qris::parse(payload.trim())
        .map_err(|e| CliError::Failed(format!("invalid QRIS: {e}")))?;
    let json = serde_json::to_string_pretty(&code).map_err(|e| CliError::Failed(e.to_string()))?;
    say(&json);
    Ok(())
}
