//! The end-to-end suites, one module per concept, linked into one binary: each runs the built
//! binaries against real parts (a private dbus-daemon and polkitd, HTTP mirrors on 127.0.0.1,
//! EROFS images, GnuPG, fusefat, systemd-sysupdate as the oracle, Xvfb) from `testbed`.
//! The suites that boot machines in qemu are the `machines` binary beside this one.

mod api;
mod btrfs;
mod bus;
mod changelog;
mod cli;
mod compressed;
mod crash;
mod delta;
mod delta_update;
mod differential;
mod esp;
mod faults;
mod flatpak;
mod fleet;
mod fleet_restart;
mod gui;
mod hostile;
mod i18n;
mod install;
mod kcm;
mod keyboard;
mod lifecycle;
mod metrics;
mod mirror;
mod notifier;
mod offline;
mod policy;
mod qml;
mod screenshot;
mod signatures;
mod units;
mod update;
mod versions;
