#include "update-center/cpp/platform.h"

#include <QtGui/QIcon>

void useBreezeIconsWhenUnset()
{
    const QString theme = QIcon::themeName();
    if (theme.isEmpty() || theme == QStringLiteral("hicolor")) {
        QIcon::setThemeName(QStringLiteral("breeze"));
    }
}
