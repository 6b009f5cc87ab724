package dev.berth.kata;

import static dev.berth.kata.ShimRegistry.QUICK;

import dev.berth.kata.proto.types.Status;
import dev.berth.kata.shim.TaskClient;
import dev.berth.kata.ttrpc.TtrpcException;
import java.time.Duration;

/**
 * Stops of a pod's tasks through its shim: the stop signal, the grace period and SIGKILL. The grace period holds no
 * lock, so that the pod's other containers, a stop with a shorter timeout and a remove go ahead meanwhile.
 */
record ShimStops(KataOptions options, ShimRegistry registry) {

    /** A container's stop: its stop signal, the grace period (waited without the pod's lock), then SIGKILL. */
    void stop(String containerId, Duration timeout) {
        Container c = registry.containers.get(containerId);
        if (c == null) {
            return;
        }
        Pod pod = registry.pods.get(c.sandboxId);
        if (pod == null) {
            return;
        }
        int signal = Integer.parseInt(c.props.getProperty("stopSignal", "15"));
        // The grace period is waited out without the pod's lock: the pod's other containers, a stop with a shorter
        // timeout and a remove go ahead meanwhile. A stop that finds another's signal sent does not send it again.
        boolean graceful = !timeout.isZero() && signal != Signals.SIGKILL;
        boolean sent = false;
        try {
            if (graceful) {
                pod.lock.lock();
                try {
                    graceful = running(pod, containerId);
                    if (graceful && c.signalled.compareAndSet(false, true)) {
                        sent = true;
                        signal(pod, containerId, signal);
                    }
                } finally {
                    pod.lock.unlock();
                }
            }
            if (graceful && exitsWithin(pod, containerId, timeout)) {
                return;
            }
        } finally {
            if (sent) {
                c.signalled.set(false);
            }
        }
        pod.lock.lock();
        try {
            killAndWait(pod, containerId, Duration.ZERO, signal);
        } finally {
            pod.lock.unlock();
        }
    }

    /** Whether the container's task runs (not stopped, and its shim answers). */
    private boolean running(Pod pod, String id) {
        TaskClient t = pod.task;
        if (t == null || !t.isOpen() || pod.lost != null) {
            return false;
        }
        try {
            return t.state(id, "", QUICK).getStatus() != Status.STOPPED;
        } catch (TtrpcException e) {
            if (e.is(TtrpcException.NOT_FOUND) || e.is(TtrpcException.UNAVAILABLE)) {
                return false;
            }
            throw e.toBackend("stop container", id);
        }
    }

    private void signal(Pod pod, String id, int signal) {
        try {
            pod.task.kill(id, "", signal, false, options.stopTimeout());
        } catch (TtrpcException e) {
            if (!e.is(TtrpcException.NOT_FOUND) && !e.is(TtrpcException.UNAVAILABLE)) {
                throw e.toBackend("stop container", id);
            }
        }
    }

    /** Waits up to {@code grace} for the task's exit; true once it has exited (or is gone with its shim). */
    private static boolean exitsWithin(Pod pod, String id, Duration grace) {
        TaskClient t = pod.task;
        if (t == null || !t.isOpen()) {
            return true;
        }
        try {
            t.await(id, "", grace);
            return true;
        } catch (TtrpcException e) {
            if (e.is(TtrpcException.DEADLINE_EXCEEDED)) {
                return false;
            }
            if (e.is(TtrpcException.NOT_FOUND) || e.is(TtrpcException.UNAVAILABLE)) {
                return true;
            }
            throw e.toBackend("stop container", id);
        }
    }

    /**
     * Sends {@code signal} (unless the grace period is zero), waits the grace period, then SIGKILLs and waits
     * up to the stop timeout. A task that is gone, already stopped or whose shim died counts as stopped.
     */
    void killAndWait(Pod pod, String id, Duration grace, int signal) {
        TaskClient t = pod.task;
        if (t == null || !t.isOpen() || pod.lost != null) {
            return;
        }
        try {
            Status s = t.state(id, "", QUICK).getStatus();
            if (s == Status.STOPPED) {
                return;
            }
            if (!grace.isZero() && signal != Signals.SIGKILL) {
                t.kill(id, "", signal, false, options.stopTimeout());
                try {
                    t.await(id, "", grace);
                    return;
                } catch (TtrpcException e) {
                    if (!e.is(TtrpcException.DEADLINE_EXCEEDED)) {
                        throw e;
                    }
                }
            }
            t.kill(id, "", Signals.SIGKILL, false, options.stopTimeout());
            t.await(id, "", options.stopTimeout());
        } catch (TtrpcException e) {
            if (e.is(TtrpcException.NOT_FOUND) || e.is(TtrpcException.UNAVAILABLE)) {
                return; // already gone, or the shim died (reported by status)
            }
            throw e.toBackend("stop container", id);
        }
    }
}
