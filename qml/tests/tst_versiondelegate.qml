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
            missingTransfers: ""
        };
        for (const key in overrides) {
            properties[key] = overrides[key];
        }
        const delegate = createTemporaryObject(delegateComponent, testCase, properties);
        verify(delegate, "the delegate was created");
        return delegate;
    }

    function test_running_complete_version() {
        const delegate = make({ booted: true });
        compare(delegate.Accessible.name, "Version 202611251200");
        verify(delegate.Accessible.description.indexOf("in 3 files") !== -1, delegate.Accessible.description);
        verify(delegate.Accessible.description.indexOf("Released ") === 0, delegate.Accessible.description);
        verify(findChild(delegate, "runningBadge").visible);
        verify(!findChild(delegate, "incompleteBadge").visible);
    }

    function test_incomplete_version_names_what_is_missing() {
        const delegate = make({ complete: false, fileCount: 2, missingTransfers: "60-esp" });
        verify(delegate.Accessible.description.indexOf("Missing: 60-esp") !== -1, delegate.Accessible.description);
        verify(findChild(delegate, "incompleteBadge").visible);
        verify(!findChild(delegate, "runningBadge").visible);
    }

    function test_version_that_is_not_a_timestamp_has_no_release_date() {
        const delegate = make({ version: "1.2.3", releasedMs: NaN, fileCount: 1 });
        compare(delegate.releasedText, "");
        verify(delegate.Accessible.description.indexOf("in one file") !== -1, delegate.Accessible.description);
    }
}
