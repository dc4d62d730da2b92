// The overview's state card shows the mirror's words (release notes, errors) as plain text:
// markup in them is shown, never followed (no remote image is loaded, no link is made).
import QtQuick
import QtTest
import org.kde.updatecenter

TestCase {
    id: testCase
    name: "StatusCard"
    width: 640
    height: 400
    visible: true
    when: windowShown

    Component {
        id: cardComponent
        StatusCard {
            width: 640
        }
    }

    function test_markup_from_the_mirror_stays_text() {
        const hostile = "<img src=\"http://127.0.0.1:9/tracker.png\"><a href=\"https://evil.example\">Fixes</a>";
        const card = createTemporaryObject(cardComponent, testCase, {
            heading: "Version 202611251200 is available",
            explanation: hostile,
            explanationIsData: true
        });
        verify(card, "the card was created");
        const label = findChild(card, "explanation");
        verify(label, "the explanation label exists");
        compare(label.textFormat, Text.PlainText);
        compare(label.text, hostile);
        compare(label.linkAt(10, 10), "", "no link is made of the mirror's markup");
    }
}
