// The shared settings form's delta updates field: a choice by keyboard writes `Delta.Store` as
// the helper reads it (empty, ranges, off, a store's URL or folder), a store of its own is
// typed into a field of its own, and both have names for a screen reader. No helper: the edits
// stay pending in the model (nothing is sent before Apply).
import QtQuick
import QtTest
import org.kde.updatecenter.settings

TestCase {
    id: testCase
    name: "SettingsForm"
    width: 800
    height: 1400
    visible: true
    when: windowShown

    // One model for every test (no helper: only pending edits); each test starts without any.
    SettingsModel {
        id: settingsModel
    }

    function init() {
        settingsModel.reset();
    }

    Component {
        id: formComponent
        SettingsForm {
            width: 800
        }
    }

    function test_delta_updates_are_chosen_by_keyboard_and_write_delta_store() {
        const model = settingsModel;
        const form = createTemporaryObject(formComponent, testCase, { settings: model });
        verify(form, "the form was created");
        const combo = findChild(form, "deltaStore");
        const field = findChild(form, "deltaStoreField");
        verify(combo && field);
        compare(combo.Accessible.name, L10n.tr("settings-delta", {}));
        compare(field.Accessible.name, L10n.tr("settings-delta-store", {}));
        compare(combo.currentValue, "default");
        verify(!field.visible, "no store field for the default");
        verify(!model.needsSave);

        combo.forceActiveFocus();
        verify(combo.activeFocus);
        keyClick(Qt.Key_Down);
        compare(combo.currentValue, "ranges");
        compare(model.deltaStore, "ranges");
        compare(model.deltaStoreKind, "ranges");
        verify(model.needsSave, "an edit waits for Apply");
        keyClick(Qt.Key_Down);
        compare(model.deltaStore, "off");

        // A store of its own: the field shows, and what is typed there is the value.
        keyClick(Qt.Key_Down);
        compare(combo.currentValue, "store");
        tryVerify(() => field.visible);
        compare(model.deltaStore, "off", "nothing typed yet");
        field.forceActiveFocus();
        verify(field.activeFocus);
        for (const c of "/media/usb/store")
            keyClick(c);
        keyClick(Qt.Key_Return);
        compare(model.deltaStore, "/media/usb/store");
        compare(model.deltaStoreKind, "folder");
        compare(model.deltaStoreCustom, "/media/usb/store");
        compare(combo.currentValue, "store");

        // Another choice and back: the store typed in before comes back.
        combo.forceActiveFocus();
        keyClick(Qt.Key_Up);
        compare(model.deltaStore, "off");
        verify(!field.visible);
        keyClick(Qt.Key_Down);
        compare(model.deltaStore, "/media/usb/store");
        verify(field.visible);

        // Reset drops the edits: the form shows what the helper has (here: nothing, the default).
        model.reset();
        compare(model.deltaStore, "");
        compare(combo.currentValue, "default");
        verify(!field.visible);
        verify(!model.needsSave);
    }

    // The update policy, by keyboard alone: the restart choice, the maintenance windows (only
    // with "in a maintenance window"), the checkboxes and the spin boxes; each has a name for a
    // screen reader, and each edit writes its `Policy.*` key as the helper reads it.
    function test_the_policy_is_set_by_keyboard() {
        const model = settingsModel;
        const form = createTemporaryObject(formComponent, testCase, { settings: model });
        verify(form, "the form was created");
        const find = name => {
            const item = findChild(form, name);
            verify(item, name);
            return item;
        };
        const restart = find("policyRestart");
        const windows = find("policyWindows");
        const busy = find("policyBusyCommand");
        const battery = find("policyMinBattery");
        const postpone = find("policyMaxPostpone");
        const interval = find("policyCheckInterval");
        compare(restart.Accessible.name, L10n.tr("settings-policy-restart", {}));
        compare(windows.Accessible.name, L10n.tr("settings-policy-windows", {}));
        compare(busy.Accessible.name, L10n.tr("settings-policy-busy", {}));
        compare(battery.Accessible.name, L10n.tr("settings-policy-battery", {}));
        compare(postpone.Accessible.name, L10n.tr("settings-policy-max-postpone", {}));
        compare(interval.Accessible.name, L10n.tr("settings-policy-check-interval", {}));
        // The defaults (no helper: the client's).
        compare(restart.currentValue, "never");
        verify(!windows.visible, "no windows unless restarts wait for one");
        compare(battery.value, 30);
        compare(postpone.value, 72);
        compare(interval.value, 24);
        verify(!model.needsSave);

        // In a maintenance window: the field shows, and Tab goes there next.
        restart.forceActiveFocus();
        verify(restart.activeFocus);
        keyClick(Qt.Key_Down);
        compare(restart.currentValue, "window");
        compare(model.policyRestart, "window");
        verify(model.needsSave, "an edit waits for Apply");
        tryVerify(() => windows.visible);
        keyClick(Qt.Key_Tab);
        verify(windows.activeFocus, "Tab reaches the windows");
        for (const c of "Sat,Sun 02:00 3h UTC")
            keyClick(c);
        keyClick(Qt.Key_Return);
        compare(model.policyWindows, "Sat,Sun 02:00 3h UTC");

        // Checkboxes toggle with Space.
        for (const [name, property] of [
            ["policyAutomaticInstall", "policyAutomaticInstall"],
            ["policyDownloadOnMetered", "policyDownloadOnMetered"],
            ["policyWaitForSessions", "policyWaitForSessions"],
            ["policyWaitForGpuJobs", "policyWaitForGpuJobs"]
        ]) {
            const box = find(name);
            // A check box is named by its text (Qt's accessibility says it).
            verify(box.text !== "", name + " has a text");
            const before = model[property];
            box.forceActiveFocus();
            verify(box.activeFocus, name);
            keyClick(Qt.Key_Space);
            compare(model[property], !before, name);
        }

        // Spin boxes step with the arrow keys; a value can be typed as well.
        battery.forceActiveFocus();
        keyClick(Qt.Key_Up);
        compare(model.policyMinBatteryPercent, 35);
        postpone.forceActiveFocus();
        keyClick(Qt.Key_Down);
        compare(model.policyMaxPostponeHours, 71);
        interval.forceActiveFocus();
        keyClick(Qt.Key_Up);
        compare(model.policyCheckIntervalHours, 25);
        keySequence("Ctrl+A");
        for (const c of "6")
            keyClick(c);
        keyClick(Qt.Key_Return);
        compare(model.policyCheckIntervalHours, 6);

        busy.forceActiveFocus();
        for (const c of "/usr/local/bin/node-idle")
            keyClick(c);
        keyClick(Qt.Key_Return);
        compare(model.policyBusyCommand, "/usr/local/bin/node-idle");

        // Reset: what the helper has again (here: nothing, the defaults).
        model.reset();
        compare(model.policyRestart, "never");
        compare(restart.currentValue, "never");
        verify(!windows.visible);
        compare(model.policyWindows, "");
        compare(model.policyCheckIntervalHours, 24);
        verify(model.policyWaitForSessions);
        verify(!model.needsSave);
    }

    function test_a_store_url_shows_as_a_store_of_its_own() {
        const model = settingsModel;
        const form = createTemporaryObject(formComponent, testCase, { settings: model });
        model.set("Delta.Store", "https://mirror.example.org/kde-linux/store/");
        compare(model.deltaStoreKind, "url");
        const combo = findChild(form, "deltaStore");
        const field = findChild(form, "deltaStoreField");
        compare(combo.currentValue, "store");
        verify(field.visible);
        compare(field.text, "https://mirror.example.org/kde-linux/store/");
        model.defaults();
        compare(model.deltaStore, "");
        compare(combo.currentValue, "default");
    }
}
