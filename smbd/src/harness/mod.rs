//! The one sans-IO test harness: a server over in-memory shares ([`vfs::mem::MemFs`]) with the
//! null crypto provider and an injectable clock ([`server`]), and a client whose frames go
//! straight into [`crate::dispatch::handle_frame`] and whose replies come back from the
//! connection's reply channel ([`client`]). The dispatch, compound, async, driver and fuzzing
//! tests all run on it; no sockets, and with a [`crate::clock::ManualClock`] no real time.

pub mod client;
pub mod server;
