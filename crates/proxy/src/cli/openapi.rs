//! `paydigital-proxy openapi`: the OpenAPI document the proxy serves at `/api/openapi.json`,
//! written to stdout or a file. `docs/openapi.json` is its output
//! (`paydigital-proxy openapi --output docs/openapi.json`).

use super::CliError;
use paydigital_proxy::http::openapi::document_json;
use std::io::Write;
use std::path::Path;

pub fn openapi(output: Option<&Path>) -> Result<(), CliError> {
    let json = document_json();
    match output {
        Some(path) => std::fs::write(path, json)
            .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", path.display()))),
        None => std::io::stdout()
            .write_all(json.as_bytes())
            .map_err(|e| CliError::Failed(format!("cannot write the document: {e}"))),
    }
}
