//! Local POSIX backend (to be written).
