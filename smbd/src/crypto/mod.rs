//! Signing, encryption and key derivation behind a provider (to be written).
