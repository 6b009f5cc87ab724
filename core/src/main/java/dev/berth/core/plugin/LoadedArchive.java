package dev.berth.core.plugin;

import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;

/** One archive the {@link PluginHost} knows, by content, and what loading it gave. */
final class LoadedArchive {
    final String hash;
    Path source;
    long size;
    FileTime modified;
    Object fileKey;
    /** The archive file's identity for {@link PluginCopies}, or null where it cannot be told. */
    String identity;
    /** Whether {@link #copyDir} is a previous run's copy. */
    boolean reused;
    Path copyDir;
    BerthPluginManager manager;
    String id = "";
    String version = "";
    String requires = "";
    String state;
    String error = "";
    List<BackendType> types = List.of();
    ClassLoader loader;
    boolean present = true;

    LoadedArchive(String hash, Path source) {
        this.hash = hash;
        this.source = source;
    }

    boolean loaded() {
        return manager != null;
    }

    PluginHost.PluginInfo info() {
        return new PluginHost.PluginInfo(id, version, source, state, types.stream().map(BackendType::type).toList(),
                error, requires, loader);
    }
}
