// The GUI's models against the real helper on a private bus with a real polkitd (started by
// tests/gui.rs): check, install with progress reaching 100 %, roll back; the history shows all
// three.
import QtQuick
import QtQml.Models
import QtTest
import org.kde.updatecenter
import org.kde.updatecenter.settings

TestCase {
    id: testCase
    name: "EndToEnd"

    StatusModel {
        id: status
        property real largestFraction: 0
        onDoneBytesChanged: {
            if (totalBytes > 0) {
                largestFraction = Math.max(largestFraction, doneBytes / totalBytes);
            }
        }
    }

    HistoryModel {
        id: history
    }

    Instantiator {
        id: historyRows
        model: history
        delegate: QtObject {
            required property string kind
        }
    }

    function test_check_install_rollback_and_history() {
        status.start();
        tryVerify(() => status.loaded, 20000, "the status arrives");
        compare(status.connectionError, "");
        const running = status.runningVersion;
        verify(running !== "", "the running version is known");
        compare(status.availableVersion, "");

        status.check();
        tryVerify(() => status.availableVersion !== "", 20000, "the check finds the update");
        const offered = status.availableVersion;
        verify(status.availableBytes > 0);

        status.install("");
        tryVerify(() => status.downloading, 20000, "the download starts");
        tryCompare(status, "restartPending", true, 60000);
        compare(status.largestFraction, 1, "the progress reached 100 %");
        compare(status.defaultVersion, offered);
        compare(status.errorMessage, "");

        status.rollback(running, false);
        tryCompare(status, "defaultVersion", running, 20000);

        history.refresh();
        tryVerify(() => history.loaded && !history.loading, 20000, "the history arrives");
        compare(history.errorMessage, "");
        compare(historyRows.count, history.count);
        const kinds = [];
        for (let i = 0; i < historyRows.count; i++)
            kinds.push(historyRows.objectAt(i).kind);
        verify(kinds.indexOf("checked") >= 0, kinds);
        verify(kinds.indexOf("committed") >= 0, kinds);
        compare(kinds[0], "rolled-back", "newest first");
    }

    SettingsModel {
        id: settings
    }

    SettingsModel {
        id: otherWindow
    }

    function test_a_settings_change_waits_for_apply_reaches_the_helper_and_survives_a_reload() {
        settings.load();
        otherWindow.load();
        tryVerify(() => settings.loaded && otherWindow.loaded, 20000);
        verify(settings.isDefaults, "a fresh system has the defaults");
        compare(settings.instancesMaxOverridden, false);

        settings.set("Updates.InstancesMax", "3");
        settings.set("Restart.Behaviour", "quiet");
        verify(settings.needsSave);
        verify(!settings.isDefaults);
        settings.reset();
        verify(!settings.needsSave, "reset drops the edits");
        compare(settings.restartBehaviour, "notify");

        settings.set("Updates.InstancesMax", "3");
        settings.set("Restart.Behaviour", "quiet");
        settings.apply();
        tryVerify(() => !settings.busy && !settings.needsSave, 20000, "applied");
        compare(settings.errorMessage, "");
        tryVerify(() => settings.instancesMax === 3, 20000);
        // The other window follows SettingsChanged without being asked.
        tryVerify(() => otherWindow.restartBehaviour === "quiet", 20000, "SettingsChanged reached the other model");
        compare(otherWindow.instancesMaxOverridden, true);

        settings.defaults();
        verify(settings.needsSave);
        verify(settings.isDefaults, "the defaults are shown before they are applied");
        settings.apply();
        tryVerify(() => !settings.busy && !settings.needsSave, 20000);
        tryVerify(() => !settings.instancesMaxOverridden, 20000);
        verify(settings.isDefaults);

        settings.set("Updates.Source", "ftp://nowhere");
        settings.apply();
        // Said by what the setting takes, through Fluent (the helper's English goes to the log).
        tryVerify(() => settings.errorMessage.indexOf("the update source was not saved: give the address of a mirror") >= 0, 20000, "a bad value is refused with a reason");
        verify(settings.needsSave, "the refused edit is kept to be fixed");
        settings.reset();
    }

    // The update policy from the settings form's model: maintenance windows the helper cannot
    // read are refused, said by what the setting takes (the page shows it), and the restart policy that would
    // wait for them is not applied either; good ones are applied and read back.
    // A model of its own: no read of an earlier test's is still under way to drop its edits.
    Component {
        id: settingsComponent
        SettingsModel {}
    }

    function test_the_policy_is_applied_and_bad_windows_are_refused_with_a_reason() {
        const settings = createTemporaryObject(settingsComponent, testCase);
        settings.load();
        tryVerify(() => settings.loaded && !settings.busy, 20000);
        compare(settings.policyRestart, "never");
        compare(settings.policyMinBatteryPercent, 30);

        settings.set("Policy.Restart", "window");
        settings.set("Policy.Windows", "Caturday 02:00 3h Mars/Olympus");
        settings.apply();
        tryVerify(() => !settings.busy && settings.errorMessage !== "", 20000, "refused");
        verify(settings.errorMessage.indexOf("the maintenance windows were not saved: write each like") >= 0, settings.errorMessage);
        verify(settings.needsSave, "the refused edits are kept to be fixed");
        compare(settings.policyRestart, "window", "still pending");

        settings.set("Policy.Windows", "Sat,Sun 02:00 3h Europe/Berlin");
        settings.set("Policy.MinBatteryPercent", "50");
        settings.set("Policy.DownloadOnMetered", "yes");
        settings.apply();
        tryVerify(() => !settings.busy && !settings.needsSave, 20000, "applied");
        compare(settings.errorMessage, "");
        otherWindow.load();
        tryVerify(() => otherWindow.loaded && otherWindow.policyWindows === "Sat,Sun 02:00 3h Europe/Berlin", 20000);
        compare(otherWindow.policyRestart, "window");
        compare(otherWindow.policyMinBatteryPercent, 50);
        verify(otherWindow.policyDownloadOnMetered);
        verify(!otherWindow.isDefaults);

        settings.defaults();
        settings.apply();
        tryVerify(() => !settings.busy && !settings.needsSave, 20000);
        tryVerify(() => settings.policyRestart === "never" && settings.policyWindows === "", 20000);
        verify(settings.isDefaults);
    }

    function test_mirror_credentials_go_to_the_keyring_and_come_back() {
        settings.load();
        tryVerify(() => settings.loaded && !settings.busy, 20000);
        settings.set("Updates.Source", "https://mirror.example.org/kde-linux/");
        settings.setCredentials("ops", "PASSWORD-MARKER-7d1f");
        verify(settings.needsSave);
        settings.apply();
        tryVerify(() => !settings.busy && !settings.needsSave, 20000, "applied");
        compare(settings.errorMessage, "");

        // Another window reads them back from the keyring (the user name, and that a password
        // is there; the password itself never reaches QML again).
        otherWindow.load();
        tryVerify(() => otherWindow.credentialUser === "ops", 20000, "read back from the keyring");
        verify(otherWindow.hasPassword);

        // Forget them, then go back to the distribution's mirror.
        settings.setCredentials("", "");
        settings.apply();
        tryVerify(() => !settings.busy && !settings.needsSave, 20000);
        otherWindow.load();
        tryVerify(() => otherWindow.loaded && otherWindow.credentialUser === "" && !otherWindow.hasPassword, 20000, "forgotten");
        settings.set("Updates.Source", "");
        settings.apply();
        tryVerify(() => !settings.busy && !settings.needsSave, 20000);
        compare(settings.errorMessage, "");
    }
}
