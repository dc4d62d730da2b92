// The plugin factory and its metadata. Only moc's output of this header is compiled.
#pragma once

#include "kcm.h"

#include <KPluginFactory>

K_PLUGIN_CLASS_WITH_JSON(UpdateCenterKcm, "../kcm_updatecenter.json")
