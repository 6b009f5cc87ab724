package dev.berth.runc;

import dev.berth.oci.spec.OciJson;
import dev.berth.oci.spec.RuntimeSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The process specs that execs run, kept per container and command. A kubelet's probes run the same command in the
 * same container every few seconds; reading and parsing the bundle's {@code config.json} and writing the exec's
 * spec again each time was about half of berth's own CPU in an ExecSync. A kept spec is used only while the
 * {@code config.json} it came from is the same file: its inode, size and modification time (the bundle's config is
 * only ever replaced by renaming a new file over it). Bounded: the {@value #CONTAINERS} containers used last, the
 * {@value #COMMANDS} commands used last in each; a removed container's are dropped with it.
 */
final class ExecSpecs {
    static final int CONTAINERS = 1024;
    static final int COMMANDS = 4;

    /** The config file a kept spec came from; none where the file system gives no file key. */
    private record Source(Object fileKey, long size, long modified) {}

    private record Command(List<String> args, boolean tty) {}

    private static final class Kept {
        final Source source;
        final RuntimeSpec.Process process;
        final Map<Command, byte[]> specs = lru(COMMANDS);

        Kept(Source source, RuntimeSpec.Process process) {
            this.source = source;
            this.process = process;
        }
    }

    private final Map<String, Kept> kept = lru(CONTAINERS);

    /** The JSON of the process that runs {@code args} in container {@code id} (bundle {@code bundle}). */
    byte[] spec(String id, Path bundle, List<String> args, boolean tty) throws IOException {
        Path config = bundle.resolve("config.json");
        BasicFileAttributes attrs = Files.readAttributes(config, BasicFileAttributes.class);
        Source source = attrs.fileKey() == null ? null
                : new Source(attrs.fileKey(), attrs.size(), attrs.lastModifiedTime().to(TimeUnit.NANOSECONDS));
        Command command = new Command(List.copyOf(args), tty);
        Kept k;
        synchronized (this) {
            k = kept.get(id);
            if (k != null && k.source.equals(source)) {
                byte[] spec = k.specs.get(command);
                if (spec != null) {
                    return spec;
                }
            } else {
                k = null;
            }
        }
        RuntimeSpec.Process process = k != null ? k.process : OciJson.read(config).process();
        byte[] spec = OciJson.writeBytes(OciSpecs.execProcess(process, command.args(), tty));
        if (source != null) {
            synchronized (this) {
                Kept now = kept.get(id);
                if (now == null || !now.source.equals(source)) {
                    now = new Kept(source, process);
                    kept.put(id, now);
                }
                now.specs.put(command, spec);
            }
        }
        return spec;
    }

    /** Drops what is kept for container {@code id}. */
    synchronized void forget(String id) {
        kept.remove(id);
    }

    /** How many containers have specs kept (for the tests). */
    synchronized int size() {
        return kept.size();
    }

    private static <K, V> Map<K, V> lru(int max) {
        return new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > max;
            }
        };
    }
}
