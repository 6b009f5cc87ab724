package dev.berth.hcs.bind;

import java.util.Locale;
import java.util.function.Supplier;

/**
 * The three native APIs the backend uses, or the reason they are missing. {@link #forHost()} creates the JNA
 * implementations only on Windows, by name through reflection, so that on any other system no class that links
 * a Windows DLL is even loaded.
 *
 * @param relays      how a container's log relay is started and given the init's pipes
 * @param backups     how a layer's files are written: with Win32 backup semantics on Windows, else (and when not
 *                    given) {@link PortableBackupFiles}
 * @param unavailable why the host has no HCS, or empty when the APIs are there
 */
public record Bindings(Hcs hcs, Hcn hcn, LayerApi layers, RelayHandOver relays, BackupFiles backups,
                       String unavailable) {
    /** The reason given on every host that is not Windows. */
    public static final String NOT_WINDOWS = "the Host Compute Service exists only on Windows";

    public Bindings {
        unavailable = unavailable == null ? "" : unavailable;
        backups = backups == null ? new PortableBackupFiles() : backups;
    }

    public static Bindings of(Hcs hcs, Hcn hcn, LayerApi layers, RelayHandOver relays) {
        return of(hcs, hcn, layers, relays, null);
    }

    public static Bindings of(Hcs hcs, Hcn hcn, LayerApi layers, RelayHandOver relays, BackupFiles backups) {
        return new Bindings(hcs, hcn, layers, relays, backups, "");
    }

    public static Bindings missing(String reason) {
        return new Bindings(null, null, null, null, null, reason);
    }

    public boolean available() {
        return unavailable.isEmpty();
    }

    /** The bindings of this host: the JNA ones on Windows, else {@link #missing} with {@link #NOT_WINDOWS}. */
    public static Bindings forHost() {
        return forOs(System.getProperty("os.name", ""), Bindings::loadJna);
    }

    static Bindings forOs(String osName, Supplier<Bindings> windows) {
        if (!osName.toLowerCase(Locale.ROOT).startsWith("windows")) {
            return missing(NOT_WINDOWS);
        }
        return windows.get();
    }

    private static Bindings loadJna() {
        try {
            Class<?> c = Class.forName("dev.berth.hcs.bind.jna.JnaBindings");
            return (Bindings) c.getMethod("load").invoke(null);
        } catch (ReflectiveOperationException | LinkageError e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            return missing("computecore.dll, computenetwork.dll or computestorage.dll could not be loaded ("
                    + cause.getMessage() + "); is the Containers feature installed?");
        }
    }
}
