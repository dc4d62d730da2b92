// The System Settings page: the same settings form as Update Center's own Settings page.
// Apply, Reset and Defaults are System Settings' buttons; the model does what they ask.
import QtQuick
import QtQuick.Controls as QQC2
import QtQuick.Layouts
import org.kde.kirigami as Kirigami
import org.kde.kcmutils as KCM
import org.kde.updatecenter.settings

KCM.SimpleKCM {
    id: root
    // kcmshell6 sizes its window by the page: the form scrolls, so the window must not grow with
    // it past a laptop's screen (where Apply would be out of reach).
    implicitWidth: Kirigami.Units.gridUnit * 38
    implicitHeight: Kirigami.Units.gridUnit * 32

    SettingsModel {
        id: model
        Component.onCompleted: load()
        // One line in the log when the values arrived (tests wait for it).
        onLoadedChanged: if (loaded) console.info("update-center-kcm: loaded automaticCheck=" + automaticCheck)
        onNeedsSaveChanged: console.info("update-center-kcm: needs save " + needsSave)
    }

    // One line in the log when the loaded values were first drawn (tests take screenshots then).
    property bool shownReported: false
    Connections {
        target: root.Window.window
        function onAfterRendering() {
            if (model.loaded && !root.shownReported) {
                root.shownReported = true;
                console.info("update-center-kcm: shown");
            }
        }
    }

    // System Settings' buttons follow the model.
    Binding {
        target: kcm
        property: "needsSave"
        value: model.needsSave
    }
    Binding {
        target: kcm
        property: "representsDefaults"
        value: model.isDefaults
    }
    Connections {
        target: kcm
        function onSaveRequested() {
            model.applyNow();
            console.info("update-center-kcm: saved " + (model.errorMessage || "ok"));
        }
        function onLoadRequested() { model.load() }
        function onDefaultsRequested() { model.defaults() }
    }

    header: Kirigami.InlineMessage {
        visible: model.errorMessage !== ""
        type: Kirigami.MessageType.Error
        position: Kirigami.InlineMessage.Position.Header
        text: model.errorMessage
    }

    ColumnLayout {
        SettingsForm {
            settings: model
            enabled: model.loaded && !model.busy
            Layout.fillWidth: true
        }
        QQC2.Button {
            objectName: "openUpdateCenter"
            text: L10n.tr("kcm-open-update-center", {})
            icon.name: "org.kde.updatecenter"
            Layout.alignment: Qt.AlignHCenter
            onClicked: model.openApplication()
        }
    }
}
