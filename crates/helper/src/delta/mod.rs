//! Delta updates from casync chunk indexes, as KDE Linux publishes them: the index format
//! (`.caibx`), and a chunker that cuts a file where `casync make` does, so that an index made
//! here is byte for byte the one casync makes; chunk stores; and rebuilding a new image from
//! the chunks of installed ones, fetching only the rest.

pub mod chunker;
pub mod index;
pub mod rebuild;
pub mod store;
