//! What a payment is, with no I/O: its record and public ids, the one state machine of its
//! life, what a new payment may be, and how each reader sees it. Everything above calls
//! this; it calls nothing of the proxy's. The shop's people have theirs too: staff (who may
//! sign in, and when not), days (a shop's day in Jakarta) and words (amounts said aloud).
//! Payment links: what a link is and when it takes a payment (links), and its form's
//! one-time token (link_tokens).

pub mod clock;
pub mod days;
pub mod ids;
pub mod lifecycle;
pub mod link_tokens;
pub mod links;
pub mod new_payment;
pub mod payment;
pub mod receipts;
pub mod staff;
pub mod views;
pub mod words;
