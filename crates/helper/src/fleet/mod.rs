//! Fleets: machines of one site that coordinate their restarts and rollouts through the
//! distributed store the site already runs (etcd, or a FleetLock server), never through a
//! server of our own (docs/fleets.md).
//!
//! - [`id`]: the machine's name in its fleet (its machine id, hashed);
//! - [`etcd`]: an etcd v3 client over the JSON gateway;
//! - [`semaphore`]: restart slots, each bound to its holder's lease;
//! - [`rollout`]: waves of machines per version, stopped by the failures they report;
//! - [`fleetlock`]: a client of the FleetLock protocol;
//! - [`machine`]: this machine's part around an automatic restart (take a slot, give it back
//!   once the new version is well, report a failure).

pub mod etcd;
pub mod fleetlock;
pub mod id;
pub mod machine;
pub mod rollout;
pub mod semaphore;
