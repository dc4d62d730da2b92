//! The suites that boot machines under qemu: the helper in a busybox initramfs with the real
//! systemd-boot (`vm`), and a real systemd system (`guest`). `cargo xtask vm-test` runs this
//! binary alone; `cargo xtask test` runs it with the rest.

mod guest;
mod vm;
