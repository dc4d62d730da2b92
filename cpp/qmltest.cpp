#include "update-center/cpp/qmltest.h"

#include <QtQuickTest/quicktest.h>

#include <string>

int runQuickTests(rust::Str sourceDir)
{
    const std::string dir(sourceDir.data(), sourceDir.size());
    static char program[] = "update-center-qmltest";
    char *argv[] = {program, nullptr};
    return quick_test_main(1, argv, "update-center", dir.c_str());
}
