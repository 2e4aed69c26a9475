//! A load generator for SMB2/3 servers, with its own lean async client.
//!
//! - [`client`]: tokio SMB2/3 client (negotiate 2.1 to 3.1.1 with preauth integrity, NTLMv2,
//!   signing, encryption, credit-driven pipelining, compounds).
//! - [`workloads`]: sequential/random I/O, metadata, session setups, many clients.
//! - [`servers`]: starts our `smbd` and a private Samba for side-by-side runs.
//! - [`ceilings`]: loopback TCP, AES-GCM and the generator's own ceiling.
//! - [`stats`] and [`report`]: percentiles, table, JSON and SVG.
#![forbid(unsafe_code)]

pub mod ceilings;
pub mod client;
pub mod report;
pub mod servers;
pub mod stats;
pub mod workloads;
