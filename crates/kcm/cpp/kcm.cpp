#include "kcm.h"

UpdateCenterKcm::UpdateCenterKcm(QObject *parent, const KPluginMetaData &data)
    : KQuickConfigModule(parent, data)
{
    setButtons(Apply | Default);
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
