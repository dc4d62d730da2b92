#include "kcm.h"

#include <QtGui/QIcon>

UpdateCenterKcm::UpdateCenterKcm(QObject *parent, const KPluginMetaData &data)
    : KQuickConfigModule(parent, data)
{
    setButtons(Apply | Default);
    // Outside a Plasma session nothing selects an icon theme, and icons would render blank.
    const QString theme = QIcon::themeName();
    if (theme.isEmpty() || theme == QStringLiteral("hicolor")) {
        QIcon::setThemeName(QStringLiteral("breeze"));
    }
}

void UpdateCenterKcm::load()
{
    KQuickConfigModule::load();
    Q_EMIT loadRequested();
}

void UpdateCenterKcm::save()
{
    KQuickConfigModule::save();
    Q_EMIT saveRequested();
}

void UpdateCenterKcm::defaults()
{
    KQuickConfigModule::defaults();
    Q_EMIT defaultsRequested();
}
