// Desktop integration the Qt bindings do not cover.
#pragma once

// Selects the Breeze icon theme when nothing (no Plasma platform theme, no user setting) chose
// one: outside a Plasma session icons would otherwise render blank.
void useBreezeIconsWhenUnset();
