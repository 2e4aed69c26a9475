//! Server configuration (to be written).
