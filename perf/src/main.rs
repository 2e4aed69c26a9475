//! Load generator and benchmarks (to be written).
fn main() {}
