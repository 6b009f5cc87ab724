package dev.berth.core.cri;

import dev.berth.spi.BackendException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Runs the steps of a Stop or Remove to the end, so that no failing step can wedge a pod or container: a step
 * that fails is logged with its reason and remembered, and the steps after it still run. The caller then drops
 * its record only if nothing failed, and otherwise reports what is left with {@link #throwIfFailed}; the next
 * Stop or Remove retries the steps that failed.
 *
 * <p>A NOT_FOUND from a step means that there was nothing left to clean up, so it counts as success: the
 * backend has no such object (for example because berth was killed while creating it), which is what a removal
 * wants.
 */
public final class Cleanup {
    private static final System.Logger LOG = System.getLogger(Cleanup.class.getName());

    private final String what;
    private final List<Failure> failures = new ArrayList<>();

    /** @param what the operation, for the log and the error, e.g. {@code remove pod sandbox "…"} */
    public Cleanup(String what) {
        this.what = what;
    }

    /** One step that could not be done. */
    public record Failure(String step, RuntimeException cause) {}

    /** Runs one step; returns whether it succeeded (or had nothing to do). */
    public boolean run(String step, Runnable action) {
        try {
            action.run();
            return true;
        } catch (BackendException e) {
            if (e.kind() == BackendException.Kind.NOT_FOUND) {
                LOG.log(System.Logger.Level.DEBUG, "{0}: {1}: nothing left to clean up ({2})", what, step,
                        e.getMessage());
                return true;
            }
            fail(step, e);
            return false;
        } catch (RuntimeException e) {
            fail(step, e);
            return false;
        }
    }

    /** Records a step that cannot be done at all (for example because the backend is not configured). */
    public void fail(String step, RuntimeException cause) {
        LOG.log(System.Logger.Level.WARNING, "{0}: cannot {1}: {2}", what, step, describe(cause));
        failures.add(new Failure(step, cause));
    }

    /** Whether every step so far succeeded. */
    public boolean ok() {
        return failures.isEmpty();
    }

    public List<Failure> failures() {
        return List.copyOf(failures);
    }

    /**
     * Throws one error naming every failed step and its reason, followed by {@code left} (what stays on the
     * node and what a retry does), if any step failed. The code is the first failure's, except that codes
     * which would blame the request (INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS) become INTERNAL: the request
     * was valid, the node could not finish it.
     */
    public void throwIfFailed(String left) {
        if (failures.isEmpty()) {
            return;
        }
        String steps = failures.stream().map(f -> "cannot " + f.step() + ": " + describe(f.cause()))
                .collect(Collectors.joining("; "));
        throw new BackendException(kind(failures.getFirst().cause()), what + " is incomplete: " + steps
                + (left.isEmpty() ? "" : ". " + left), failures.getFirst().cause());
    }

    private static BackendException.Kind kind(RuntimeException e) {
        if (e instanceof BackendException b) {
            return switch (b.kind()) {
                case INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS -> BackendException.Kind.INTERNAL;
                default -> b.kind();
            };
        }
        return BackendException.Kind.INTERNAL;
    }

    private static String describe(RuntimeException e) {
        return e instanceof BackendException || e.getMessage() == null
                ? String.valueOf(e.getMessage()) : e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
