//! A real HTTP webhook receiver: it records every request (headers, body, which proxy sent
//! it, when it came and when it was answered) and answers as a script says.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    pub json: Value,
    /// The `via` query parameter: which proxy of a group sent it.
    pub via: String,
    pub at: Instant,
    /// When the receiver answered (`None` while it holds the request).
    pub answered: Option<Instant>,
}

impl Received {
    pub fn kind(&self) -> &str {
        self.json["type"].as_str().unwrap_or("")
    }
    pub fn payment(&self) -> &str {
        self.json["data"]["id"].as_str().unwrap_or("")
    }
    pub fn reference(&self) -> &str {
        self.json["data"]["reference"].as_str().unwrap_or("")
    }
}

/// How the receiver answers: a status, after a delay, with headers.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
    pub retry_after: Option<&'static str>,
}

pub fn ok() -> Reply {
    Reply {
        status: 204,
        delay: Duration::ZERO,
        retry_after: None,
    }
}

type Script = Box<dyn Fn(&Received, usize) -> Reply + Send + Sync>;

#[derive(Clone)]
pub struct Receiver {
    seen: Arc<Mutex<Vec<Received>>>,
    /// Given the request and how many with its webhook-id came before it.
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    /// A receiver on a free port, answering 204 to everything; its URL.
    pub async fn start() -> (Receiver, String) {
        let receiver = Receiver {
            seen: Arc::default(),
            script: Arc::new(Mutex::new(Box::new(|_, _| ok()))),
        };
        let app = axum::Router::new()
            .route("/hooks", axum::routing::post(receive))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/hooks", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (receiver, url)
    }

    pub fn script(&self, script: impl Fn(&Received, usize) -> Reply + Send + Sync + 'static) {
        *self.script.lock().expect("script") = Box::new(script);
    }

    pub fn seen(&self) -> Vec<Received> {
        self.seen.lock().expect("seen").clone()
    }

    pub fn for_reference(&self, reference: &str) -> Vec<Received> {
        self.seen()
            .into_iter()
            .filter(|r| r.reference() == reference)
            .collect()
    }

    /// Waits until `ready` holds for what arrived; fails after `limit`.
    pub async fn wait_for(&self, what: &str, limit: Duration, ready: impl Fn(&[Received]) -> bool) {
        let arrived = crate::helpers::wait_for(limit, || {
            let seen = self.seen();
            std::future::ready(ready(&seen))
        })
        .await;
        if !arrived {
            let kinds: Vec<(String, String, String)> = self
                .seen()
                .iter()
                .map(|r| (r.kind().to_owned(), r.id.clone(), r.via.clone()))
                .collect();
            panic!("waited {limit:?} for {what}; received {kinds:?}");
        }
    }
}

async fn receive(
    State(receiver): State<Receiver>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let body = String::from_utf8_lossy(&body).into_owned();
    let received = Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        json: serde_json::from_str(&body).unwrap_or(Value::Null),
        body,
        via: query.get("via").cloned().unwrap_or_default(),
        at: Instant::now(),
        answered: None,
    };
    let (index, reply) = {
        let mut seen = receiver.seen.lock().expect("seen");
        let before = seen.iter().filter(|r| r.id == received.id).count();
        let reply = (receiver.script.lock().expect("script"))(&received, before);
        seen.push(received);
        (seen.len() - 1, reply)
    };
    tokio::time::sleep(reply.delay).await;
    if let Some(r) = receiver.seen.lock().expect("seen").get_mut(index) {
        r.answered = Some(Instant::now());
    }
    let mut response = StatusCode::from_u16(reply.status)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        .into_response();
    if let Some(after) = reply.retry_after {
        if let Ok(value) = after.parse() {
            response.headers_mut().insert("retry-after", value);
        }
    }
    response
}
