package dev.berth.spi;

import java.util.List;
import java.util.Map;

/**
 * Everything a backend needs to create a container. Core has pulled the image, resolved its config and user,
 * and prepared a private root file system for the container ({@link #rootfs()}); the backend mounts it.
 *
 * @param command overrides the image's entrypoint when not empty (CRI {@code command})
 * @param args overrides the image's cmd when not empty (CRI {@code args})
 * @param env the request's environment, {@code KEY=value}, to be applied over the image's
 * @param logPath the absolute path of the container's CRI log file, or empty for no log
 * @param raw CRI's serialized {@code ContainerConfig} (runtime.v1 wire format), as in {@link SandboxSpec#raw()}
 */
public record ContainerSpec(
        String id,
        String sandboxId,
        String name,
        int attempt,
        ImageConfig image,
        List<String> command,
        List<String> args,
        String workingDir,
        List<String> env,
        List<ContainerMount> mounts,
        List<DeviceSpec> devices,
        Map<String, String> labels,
        Map<String, String> annotations,
        String logPath,
        boolean stdin,
        boolean stdinOnce,
        boolean tty,
        LinuxResources resources,
        ContainerSecurity security,
        List<MountSpec> rootfs,
        byte[] raw) {

    public ContainerSpec {
        id = Checks.id(id, "container id");
        sandboxId = Checks.id(sandboxId, "sandbox id");
        name = Checks.id(name, "container name");
        image = image == null ? ImageConfig.NONE : image;
        command = Checks.list(command);
        args = Checks.list(args);
        workingDir = Checks.text(workingDir);
        env = Checks.list(env);
        mounts = Checks.list(mounts);
        devices = Checks.list(devices);
        labels = Checks.map(labels);
        annotations = Checks.map(annotations);
        logPath = Checks.text(logPath);
        resources = resources == null ? LinuxResources.NONE : resources;
        security = security == null ? ContainerSecurity.DEFAULT : security;
        rootfs = Checks.list(rootfs);
        raw = raw == null ? new byte[0] : raw.clone();
    }

    /**
     * The identity the process runs with: the security context's {@code run_as_user} and {@code run_as_group}
     * over the user core resolved in the image, the primary gid among the groups, the image's memberships of
     * that user unless the policy is {@code Strict}, and the requested supplemental groups.
     */
    public ProcessUser processUser() {
        return ProcessUser.of(image, security);
    }

    /** The process to run: entrypoint and cmd from the image, each replaced by the request when set. */
    public List<String> processArgs() {
        List<String> entry = command.isEmpty() ? image.entrypoint() : command;
        List<String> cmd = args.isEmpty() && command.isEmpty() ? image.cmd() : args;
        var all = new java.util.ArrayList<String>(entry);
        all.addAll(cmd);
        return List.copyOf(all);
    }

    @Override
    public byte[] raw() {
        return raw.clone();
    }
}
