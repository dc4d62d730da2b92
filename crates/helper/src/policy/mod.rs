//! Policy: when the helper may act on its own. [`window`] says when a maintenance window is
//! open; [`gpu`] finds GPU compute work that an automatic restart must wait for; [`gates`]
//! decides, from a policy and the facts of the moment, what an automatic download or restart
//! waits for.

pub mod gates;
pub mod gpu;
pub mod window;
