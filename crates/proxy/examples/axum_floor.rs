//! The floor for `make bench`: bare axum on the same runtime, answering a status read's worth
//! of constant JSON with no middleware, no state and no store. What it costs at 1000
//! connections is what axum and hyper cost, not this proxy.
//!
//! `cargo run --release -p paydigital-proxy --example axum_floor -- 127.0.0.1:0`

use axum::routing::get;
use axum::Router;

const BODY: &str = r#"{"invoice":"PYG20261124000000001","status":"pending","amount":10000,"unique_code":387,"total_amount":10387,"qr_content":"00020101021126570011ID.DANA.WWW011893600915302259148102090225914810303UMI51440014ID.CO.QRIS.WWW0215ID10200176114730303UMI5204581253033605405103875802ID5913TOKO KOPI SUSU6007JAKARTA61051234062070703A0163048C4B","payment_url":null,"expires_at":"2026-11-24T20:15:00+07:00","expires_in":899,"server_time":"2026-11-24T20:00:01+07:00","paid_at":null}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("axum floor: http://{}", listener.local_addr()?);
    let app = Router::new().route(
        "/api/payments/{invoice}",
        get(|| async { ([("content-type", "application/json")], BODY) }),
    );
    axum::serve(listener, app).await
}
