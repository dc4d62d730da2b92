// Translations reach QML with arguments and plural forms.
import QtQuick
import QtTest
import org.kde.updatecenter
import org.kde.updatecenter.settings

TestCase {
    name: "L10n"

    function test_plural_forms_follow_the_number() {
        compare(L10n.tr("version-summary", { size: "1 KiB", count: 1 }), "1 KiB in one file");
        compare(L10n.tr("version-summary", { size: "2 KiB", count: 2 }), "2 KiB in 2 files");
    }

    function test_plain_message_and_fallback_to_the_id() {
        compare(L10n.tr("badge-running", {}), "Running");
        compare(L10n.tr("no-such-message", {}), "no-such-message");
    }
}
