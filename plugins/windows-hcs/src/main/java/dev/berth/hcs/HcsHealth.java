package dev.berth.hcs;

import dev.berth.hcs.bind.HResults;
import dev.berth.hcs.bind.Hcs;
import dev.berth.hcs.handle.HcsException;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendHealth;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** The handler's health: whether the Host Compute Service is there and answers, and whether its isolation runs. */
final class HcsHealth {
    private final HcsEnv env;

    HcsHealth(HcsEnv env) {
        this.env = env;
    }

    BackendHealth check() {
        if (!env.bindings().available()) {
            return new BackendHealth(false, List.of(new BackendHealth.Check(false, "host compute service",
                    env.bindings().unavailable())));
        }
        // A system that cannot exist: the service answering "not found" shows it is there and talks to berth.
        Hcs.HandleResult r = env.hcs().openComputeSystem("berth-health-" + UUID.randomUUID(), Hcs.GENERIC_ALL);
        if (!HResults.failed(r.hresult())) {
            env.hcs().closeComputeSystem(r.handle());
        }
        boolean ok = !HResults.failed(r.hresult())
                || HcsException.kindOf(r.hresult()) == BackendException.Kind.NOT_FOUND;
        String advice = ok ? "" : "the Host Compute Service did not answer (" + HResults.name(r.hresult())
                + "); is the vmcompute service running and berth elevated?";
        List<BackendHealth.Check> checks = new ArrayList<>();
        checks.add(new BackendHealth.Check(ok, "host compute service", advice));
        if (env.options().isolation().equals("hyperv")) {
            checks.add(new BackendHealth.Check(false, "hyper-v isolation",
                    "Hyper-V isolated pods are not implemented by this plugin yet; use isolation = \"process\""));
        }
        return BackendHealth.of(checks);
    }
}
