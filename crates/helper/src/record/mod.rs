//! What the helper keeps about the machine in its state directory: the history of what it did,
//! and the state file (pins, held-back versions, the chosen default, an unacknowledged
//! fallback).

pub mod history;
pub mod metrics;
pub mod statefile;
