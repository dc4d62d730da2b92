//! The operations, each written once: the CLI (`update-center-helper check`, `update`, ...) and
//! the D-Bus service call these same functions, so that a flow, its rules and its records are
//! the same whichever front end asked. A front end only parses its arguments, authorises the
//! caller (the service, through polkit), calls one function here and presents the result.

pub mod check;
pub mod error;
pub mod facts;
pub mod health;
pub mod install;
pub mod mirror;
pub mod policy;
pub mod read;
pub mod settings;
pub mod versions;

pub use check::{Check, Offer, check};
pub use error::OpError;
pub use health::{HealthReport, run_health_checks};
pub use install::{Event, download_ahead, install, recover, target_dirs};
pub use read::{changelog, history};
pub use versions::{acknowledge_fallback, pin, remove, rollback, vacuum};
