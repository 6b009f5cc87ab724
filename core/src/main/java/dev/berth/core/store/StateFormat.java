package dev.berth.core.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The format of berth's on-disk data, kept in a {@code format} file in each of its two directories: {@code root}
 * (images, content, network state; it outlives a reboot) and {@code state} (the records of running pods). A berth
 * reads the formats up to {@link #CURRENT}; it stamps a directory that has none, and refuses to start on one a newer
 * berth wrote, rather than misread (or rewrite) the records of running pods or the image store. The Debian
 * package's preinst makes the same check before a downgrade, with the number {@link #main} prints at build time,
 * so that apt refuses the package instead of leaving a berth that cannot start.
 *
 * <p>Raise {@link #CURRENT} with any change an older berth would misread: record fields it would drop on rewrite,
 * a new directory layout. Additive, ignorable record fields do not need it.
 */
public final class StateFormat {
    /** The newest format this berth reads and writes. */
    public static final int CURRENT = 1;
    static final String FILE = "format";

    private StateFormat() {}

    /** A state directory this berth must not use. */
    public static final class Refused extends RuntimeException {
        Refused(String message) {
            super(message);
        }
    }

    /**
     * Checks {@code stateDir}'s format and stamps it with {@link #CURRENT} where it has none (a new directory, or
     * one from before formats were recorded, which is format 1).
     *
     * @return the format found, or {@link #CURRENT} when the directory had none
     * @throws Refused if a newer berth wrote the directory, or its format file is not a format number
     */
    public static int check(Path stateDir) {
        Path file = stateDir.resolve(FILE);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (NoSuchFileException e) {
            stamp(file);
            return CURRENT;
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
        int found;
        try {
            found = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new Refused(file + " should hold a state format number, not \"" + abbreviate(text)
                    + "\": restore it (this berth writes format " + CURRENT + ")");
        }
        if (found > CURRENT) {
            throw new Refused(stateDir + " holds data in format " + found + ", written by a newer berth; this"
                    + " berth reads formats up to " + CURRENT + ". Run a berth that reads format " + found
                    + ", or remove every pod and the directory to start afresh");
        }
        if (found < 1) {
            throw new Refused(file + " holds format " + found + ", which no berth writes");
        }
        return found;
    }

    private static void stamp(Path file) {
        try {
            AtomicFiles.write(file, (CURRENT + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file, e);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }

    /** Prints {@link #CURRENT}: the package build writes it into the preinst's downgrade check. */
    public static void main(String[] args) {
        System.out.println(CURRENT);
    }
}
