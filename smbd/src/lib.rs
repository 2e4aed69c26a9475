//! An SMB 2.0.2 to 3.1.1 file server.
//!
//! Layers, bottom up: [`proto`] (wire formats, no I/O), [`crypto`] (signing, encryption and key
//! derivation behind a provider), [`conn`] (per-connection protocol state), [`dispatch`] (checks
//! and one handler per command, seeing only the `vfs` trait), and [`server`] (the only tokio
//! networking code). [`setup`] turns a [`config::Config`] into a running [`state::ServerContext`].
//! See docs/ARCHITECTURE.md.
#![forbid(unsafe_code)]

pub mod access;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod conn;
pub mod crypto;
pub mod dispatch;
pub mod durable;
#[doc(hidden)]
pub mod fuzzing;
#[doc(hidden)]
pub mod harness;
pub mod limits;
pub mod metrics;
pub mod netif;
pub mod oplock;
pub mod proto;
pub mod reload;
pub mod rpc;
pub mod server;
pub mod service;
pub mod setup;
pub mod state;
pub mod status;
