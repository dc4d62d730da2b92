//! The formats the engine reads: pure functions from text to values, every one fuzzed
//! (`cargo xtask fuzz`).

pub mod ini;
pub mod osrelease;
pub mod pattern;
pub mod sums;
pub mod version;
