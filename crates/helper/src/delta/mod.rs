//! Delta updates from casync chunk indexes, as KDE Linux publishes them: the index format
//! (`.caibx`), and a chunker that cuts a file where `casync make` does, so that an index made
//! here is byte for byte the one casync makes.

pub mod chunker;
pub mod index;
pub mod store;
