//! Installing a version: the plan (a value, made from facts) and the transaction that carries
//! it out atomically, with its intent record for recovery after a crash.

pub mod delta;
pub mod plan;
pub mod transaction;
