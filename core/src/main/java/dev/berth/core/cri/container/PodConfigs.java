package dev.berth.core.cri.container;

import dev.berth.core.cri.StoredConfigs;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.PodSandboxConfig;

/** Reads back the pod config stored on a sandbox record. */
final class PodConfigs {
    private PodConfigs() {}

    static PodSandboxConfig of(SandboxRecord s) {
        return StoredConfigs.sandbox(s.config());
    }

    static String logDirectory(SandboxRecord s) {
        return of(s).getLogDirectory();
    }
}
