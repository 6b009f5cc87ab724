package dev.berth.core.image;

import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;

/** Runs a pull's layer jobs in parallel, each on its own virtual thread, and stops them all when one fails. */
final class LayerJobs {
    private LayerJobs() {
    }

    /** Fetches and unpacks one layer on its own virtual thread; {@link #cancel} interrupts it. */
    static final class LayerJob implements Runnable {
        private final Callable<?> body;
        private Thread thread;
        private boolean cancelled;
        private volatile Throwable failure;

        LayerJob(Callable<?> body) {
            this.body = body;
        }

        @Override
        public void run() {
            synchronized (this) {
                if (cancelled) {
                    return;
                }
                thread = Thread.currentThread();
            }
            try {
                body.call();
            } catch (Throwable t) {
                failure = t;
            } finally {
                synchronized (this) {
                    thread = null;
                }
            }
        }

        synchronized void cancel() {
            cancelled = true;
            if (thread != null) {
                thread.interrupt();
            }
        }
    }

    /**
     * Runs the layer jobs in parallel and returns when all succeeded. When one fails, the others are interrupted,
     * and the failure is thrown only once every job has ended, so nothing of the pull is still being written.
     */
    static void runAll(ExecutorService workers, List<LayerJob> jobs, ImageReference ref) {
        BlockingQueue<LayerJob> ended = new LinkedBlockingQueue<>();
        for (LayerJob job : jobs) {
            try {
                workers.execute(() -> {
                    try {
                        job.run();
                    } finally {
                        ended.add(job);
                    }
                });
            } catch (RejectedExecutionException e) {
                job.failure = new BackendException(Kind.UNAVAILABLE, "the image service is closing");
                ended.add(job);
            }
        }
        Throwable failure = null;
        boolean interrupted = false;
        for (int left = jobs.size(); left > 0; ) {
            LayerJob done;
            try {
                done = ended.take();
            } catch (InterruptedException e) {
                if (!interrupted) {
                    interrupted = true;
                    jobs.forEach(LayerJob::cancel);
                }
                continue;
            }
            left--;
            if (done.failure != null && failure == null) {
                failure = done.failure;
                jobs.forEach(LayerJob::cancel);
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
            throw new BackendException(Kind.UNAVAILABLE, "failed to pull image \"" + ref + "\": interrupted");
        }
        switch (failure) {
            case null -> { }
            case BackendException be -> throw new BackendException(be.kind(), be.getMessage(), be);
            case IOException io -> throw new BackendException(Kind.INTERNAL, io.getMessage(), io);
            default -> throw BackendException.internal(failure.getMessage() == null
                    ? failure.getClass().getSimpleName() : failure.getMessage(), failure);
        }
    }
}
