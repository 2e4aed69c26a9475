//! An SMB 2.0.2 to 3.1.1 file server.
//!
//! Layers, bottom up: [`proto`] (wire formats, no I/O), [`crypto`] (signing, encryption and key
//! derivation behind a provider), [`conn`] (per-connection protocol state), [`dispatch`] (one
//! handler per command, seeing only the `vfs` trait), and [`server`] (the only tokio code).
//! See docs/ARCHITECTURE.md.
#![forbid(unsafe_code)]

pub mod config;
pub mod crypto;
pub mod proto;
pub mod rpc;
