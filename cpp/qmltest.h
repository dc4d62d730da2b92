// Entry point of the QML component tests (QtQuickTest).
#pragma once

#include "rust/cxx.h"

// Runs every tst_*.qml in sourceDir; returns the number of failed tests.
int runQuickTests(rust::Str sourceDir);
