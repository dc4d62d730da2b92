//! What is on the machine: the installed versions and their files, and the boot entries.

pub mod boot;
pub mod inventory;
