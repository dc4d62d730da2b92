// The model behind the versions page, with no helper to answer: it must finish loading and
// carry a message for the person instead of hanging. The test runner points
// DBUS_SYSTEM_BUS_ADDRESS at a socket that does not exist.
import QtQuick
import QtTest
import org.kde.updatecenter

TestCase {
    id: testCase
    name: "VersionModel"

    VersionModel {
        id: model
    }

    SignalSpy {
        id: loadedSpy
        target: model
        signalName: "loadedChanged"
    }

    function test_unreachable_bus_gives_a_message_and_no_rows() {
        verify(!model.loaded);
        model.refresh();
        verify(model.loading, "loading starts at once");
        loadedSpy.wait(10000);
        verify(model.loaded);
        verify(!model.loading);
        compare(model.count, 0);
        verify(model.errorMessage.indexOf("The updates of this system cannot be shown: the system bus cannot be reached") === 0, model.errorMessage);
    }
}
