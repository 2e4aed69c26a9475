//! Cross-module tests: binary and SDDL round trips, access checks, inheritance.
