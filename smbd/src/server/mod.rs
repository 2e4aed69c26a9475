//! The only tokio code: the listener, one driver per connection, and shutdown.

pub mod admin;
mod deadline;
mod driver;
mod frames;
mod listener;

pub use listener::{ServeOptions, serve};
