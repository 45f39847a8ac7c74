//! The proxy end to end, in one test binary (as zero-to-production's `tests/api/`): each
//! module a part of the contract, against a sandbox PayDigital over HTTP, a real SQLite file
//! or PostgreSQL database, real webhook receivers, and the binary itself where a process
//! must be killed. `helpers` and `receiver` are shared by all of them.

mod admin;
mod backups;
mod browser;
mod cli;
mod counter;
mod faults;
mod helpers;
mod links;
mod logs;
mod merchant;
mod metrics;
mod migrate;
mod openapi;
mod pages;
mod posters;
mod receipts;
mod receiver;
mod sandbox;
mod scale_out;
mod security;
mod upgrade;
mod webhooks;
