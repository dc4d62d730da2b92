//! The test's parts inside the guest (none of them is the product): the initramfs's `/init`,
//! the harness that reports each boot and runs its action, the site's polkit rule, and the
//! slow writeback that makes a power cut lose what was not fsynced.

/// The initramfs's `/init`: mounts the state disk as the root and the version's `/usr` image
/// from it, then starts systemd.
pub(super) const INIT: &str = r#"#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
fail() { echo "uc: initramfs: $*"; sync; poweroff -f; }
# A module for a CPU feature the machine lacks fails to load, harmlessly: what is missing
# shows when a mount fails.
for m in $(cat /modules); do insmod /lib/modules/$m.ko 2>/dev/null || echo "uc: initramfs: no $m"; done
v=$(sed 's/.*uc.version=\([^ ]*\).*/\1/' /proc/cmdline)
mkdir -p /sysroot
# Journal commits at most every ten minutes and no flush of renamed files' data on its own
# (noauto_da_alloc): with the slow writeback of /etc/sysctl.d, only what the helper fsyncs
# survives a power cut, and a missing fsync shows.
mount -t ext4 -o rw,commit=600,noauto_da_alloc /dev/vdb /sysroot || fail "cannot mount the state disk"
mount -t erofs -o ro,loop "/sysroot/system/kde-linux_$v.erofs" /sysroot/usr || fail "cannot mount /usr of $v"
umount /proc /sys /dev
exec switch_root /sysroot /usr/lib/systemd/systemd
"#;

/// The harness: runs after the boot settled (after the health checks, systemd-bless-boot and
/// the boot record), reports, then does this boot's action.
pub(super) const HARNESS: &str = r#"#!/bin/sh
# The test's harness in the guest (not part of the product): says which version booted and how
# the boot went, runs this boot's action (the first line of /uc-actions, written by the host),
# then powers off, or reboots when the action asked for it (then_reboot).
. /usr/lib/os-release
# A line of its own: the firmware's and the kernel's output leave no newline behind.
echo
echo "uc: booted version $IMAGE_VERSION"
echo "uc: uptime $(cut -d' ' -f1 /proc/uptime)"
echo "uc: writeback every $(cat /proc/sys/vm/dirty_writeback_centisecs) cs, expiry $(cat /proc/sys/vm/dirty_expire_centisecs) cs; root $(awk '$2 == "/" {print $4}' /proc/mounts)"
if systemctl -q is-active boot-complete.target; then
    echo "uc: boot-complete.target reached at $(systemctl show -P ActiveEnterTimestampMonotonic boot-complete.target) us"
fi
for unit in update-center-health-check systemd-bless-boot update-center-boot-record; do
    # Active or not, and how its last run ended (a oneshot unit that ran is inactive again).
    echo "uc: unit $unit $(systemctl is-active $unit.service) $(systemctl show -P Result $unit.service)"
    if systemctl -q is-failed $unit.service; then
        journalctl -b -u $unit.service -o cat --no-pager | tail -n 8 | sed "s/^/uc: $unit: /"
    fi
done
echo "uc: esp: $(ls /efi/EFI/Linux | tr '\n' ' ')"
if systemctl -q is-failed update-center-health-check.service; then
    echo "uc: a required health check failed; rebooting unblessed"
    systemctl reboot
    exit 0
fi
action=$(sed -n 1p /uc-actions)
if [ -n "$action" ]; then
    sed -i 1d /uc-actions
    sync
    echo "uc: action: $action"
    ( . /etc/uc-scenario/lib.sh; eval "$action" ) 2>&1 | sed 's/^/uc: | /'
fi
# The boot loader's choices, for the judge on the host (it cannot read the firmware's store).
rm -rf /uc-efivars
mkdir -p /uc-efivars
cp /sys/firmware/efi/efivars/LoaderEntryDefault-* /sys/firmware/efi/efivars/LoaderEntryOneShot-* /uc-efivars/ 2>/dev/null
# No sync here: what the helper promised must be on the disk by its own fsyncs (the shutdown
# syncs later, which a power cut right after the action never reaches).
if [ -e /run/uc-reboot ]; then
    echo "uc: reboot"
    systemctl reboot
else
    echo "uc: poweroff"
    systemctl poweroff
fi
"#;

/// Words for the actions: who runs a command, and what comes after the action.
pub(super) const HARNESS_LIB: &str = r#"# Sourced by the harness for each action.
# alice administers the machine (group sudo, which the site's polkit rule trusts); bob does not.
as_admin() { runuser -u alice -- "$@"; echo "exit $?"; }
as_user() { runuser -u bob -- "$@"; echo "exit $?"; }
then_reboot() { touch /run/uc-reboot; }
"#;

pub(super) const HARNESS_UNIT: &str = "[Unit]\n\
Description=The test's actions on this boot (not part of the product)\n\
DefaultDependencies=no\n\
Requires=sysinit.target\n\
Wants=network-online.target\n\
After=sysinit.target basic.target multi-user.target network-online.target dbus.service \
update-center-health-check.service systemd-bless-boot.service update-center-boot-record.service\n\
Conflicts=shutdown.target\n\
Before=shutdown.target\n\
\n\
[Service]\n\
Type=oneshot\n\
ExecStart=/etc/uc-scenario/run\n\
StandardOutput=tty\n\
StandardError=tty\n\
TTYPath=/dev/ttyS0\n\
\n\
[Install]\n\
WantedBy=multi-user.target\n";

/// The site's polkit rule: members of `sudo` may use the Update Center without a password.
pub(super) const POLKIT_RULE: &str = r#"// Administrators of this site (group sudo) manage updates without a password.
polkit.addRule(function(action, subject) {
    if (action.id.indexOf("org.kde.updatecenter.") == 0 && subject.isInGroup("sudo")) {
        return polkit.Result.YES;
    }
});
"#;

/// Writeback so slow that only what is fsynced survives a power cut: nothing is written back
/// by age or by the flusher, and dirty pages may fill most of memory.
pub(super) const WRITEBACK: &str = "vm.dirty_expire_centisecs = 360000\n\
vm.dirty_writeback_centisecs = 0\n\
vm.dirty_background_ratio = 90\n\
vm.dirty_ratio = 90\n";
