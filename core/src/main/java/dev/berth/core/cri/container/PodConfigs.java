package dev.berth.core.cri.container;

import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.PodSandboxConfig;
import com.google.protobuf.InvalidProtocolBufferException;

/** Reads back the pod config stored on a sandbox record. */
final class PodConfigs {
    private PodConfigs() {}

    static PodSandboxConfig of(SandboxRecord s) {
        try {
            return PodSandboxConfig.parseFrom(s.config());
        } catch (InvalidProtocolBufferException e) {
            return PodSandboxConfig.getDefaultInstance();
        }
    }

    static String logDirectory(SandboxRecord s) {
        return of(s).getLogDirectory();
    }
}
