// kcm_updatecenter: Update Center's settings in System Settings. The page (qml/main.qml) does
// the work through the shared SettingsModel; this class turns System Settings' Apply, Reset
// and Defaults into signals the page handles.
#pragma once

#include <KQuickConfigModule>

class UpdateCenterKcm : public KQuickConfigModule
{
    Q_OBJECT

public:
    UpdateCenterKcm(QObject *parent, const KPluginMetaData &data);

    void load() override;
    void save() override;
    void defaults() override;

Q_SIGNALS:
    void loadRequested();
    void saveRequested();
    void defaultsRequested();
};
