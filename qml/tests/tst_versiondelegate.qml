// The delegate of one installed version: texts and badges for each state.
import QtQuick
import QtTest
import org.kde.updatecenter

TestCase {
    id: testCase
    name: "VersionDelegate"
    width: 640
    height: 120
    // TestCase items are invisible by default; the badges' visibility is what is tested.
    visible: true
    when: windowShown

    Component {
        id: delegateComponent
        VersionDelegate {
            width: 640
        }
    }

    function make(overrides) {
        const properties = {
            version: "202611251200",
            releasedMs: 1795608000000,
            complete: true,
            booted: false,
            sizeBytes: 4096,
            fileCount: 3,
            missingTransfers: "",
            stateNames: "",
            triesLeft: -1,
            triesDone: -1
        };
        for (const key in overrides) {
            properties[key] = overrides[key];
        }
        const delegate = createTemporaryObject(delegateComponent, testCase, properties);
        verify(delegate, "the delegate was created");
        return delegate;
    }

    function test_running_complete_version() {
        const delegate = make({ booted: true, stateNames: "running,default" });
        compare(delegate.Accessible.name, "Version 202611251200");
        verify(delegate.Accessible.description.indexOf("in 3 files") !== -1, delegate.Accessible.description);
        verify(delegate.Accessible.description.indexOf("Released ") === 0, delegate.Accessible.description);
        verify(findChild(delegate, "runningBadge").visible);
        compare(findChild(delegate, "defaultBadge").text, "Boots next");
        verify(!findChild(delegate, "incompleteBadge"));
        verify(delegate.keep, "the running version cannot be removed");
    }

    function test_incomplete_version_names_what_is_missing() {
        const delegate = make({ complete: false, fileCount: 2, missingTransfers: "60-esp", stateNames: "incomplete" });
        verify(delegate.Accessible.description.indexOf("Missing: 60-esp") !== -1, delegate.Accessible.description);
        verify(findChild(delegate, "incompleteBadge").visible);
        verify(!findChild(delegate, "runningBadge"));
        verify(!findChild(delegate, "versionMenuButton").visible, "no actions for an incomplete version");
    }

    function test_on_trial_and_failed_versions_say_how_many_tries() {
        const trial = make({ stateNames: "on-trial", triesLeft: 1, triesDone: 1 });
        compare(findChild(trial, "on-trialBadge").text, "On trial (one try left)");
        const failed = make({ stateNames: "failed,held-back", triesLeft: 0, triesDone: 2 });
        compare(findChild(failed, "failedBadge").text, "Failed to boot");
        compare(findChild(failed, "held-backBadge").text, "Held back");
        verify(!failed.keep, "a failed version may be removed");
    }

    function test_boot_and_remove_are_asked_of_the_page() {
        const delegate = make({ stateNames: "pinned" });
        verify(delegate.keep, "a pinned version cannot be removed");
        const spy = createTemporaryObject(signalSpy, testCase, { target: delegate, signalName: "requested" });
        delegate.requested("boot", delegate.version);
        compare(spy.count, 1);
        compare(spy.signalArguments[0][0], "boot");
    }

    Component {
        id: signalSpy
        SignalSpy {}
    }

    function test_every_state_is_told_by_words_and_an_icon_not_by_colour_alone() {
        const states = ["running", "default", "next-boot-once", "on-trial", "failed", "pinned",
                        "protected", "held-back", "incomplete", "obsolete"];
        const delegate = make({ stateNames: states.join(","), triesLeft: 1, triesDone: 2 });
        const texts = [];
        const icons = [];
        for (const state of states) {
            const badge = findChild(delegate, state + "Badge");
            verify(badge, state + " has a badge");
            verify(badge.visible, state);
            verify(badge.text !== "", state + " has words");
            compare(badge.Accessible.name, badge.text, state + " is said by a screen reader");
            verify(badge.iconName !== "", state + " has an icon");
            verify(findChild(badge, "badgeIcon").visible, state + " shows its icon");
            texts.push(badge.text);
            icons.push(badge.iconName);
        }
        compare(new Set(texts).size, states.length, "each state has its own words: " + texts);
        compare(new Set(icons).size, states.length, "and its own icon: " + icons);
    }

    function test_version_that_is_not_a_timestamp_has_no_release_date() {
        const delegate = make({ version: "1.2.3", releasedMs: NaN, fileCount: 1 });
        compare(delegate.releasedText, "");
        verify(delegate.Accessible.description.indexOf("in one file") !== -1, delegate.Accessible.description);
    }
}
