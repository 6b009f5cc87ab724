package dev.berth.spi;

/** Which namespaces a pod or container uses, from CRI's {@code NamespaceOption}. */
public record Namespaces(NamespaceMode network, NamespaceMode pid, NamespaceMode ipc, String targetId,
                         UserNamespace userNamespace) {
    public static final Namespaces POD_DEFAULT =
            new Namespaces(NamespaceMode.POD, NamespaceMode.CONTAINER, NamespaceMode.POD, "", null);

    public Namespaces {
        network = network == null ? NamespaceMode.POD : network;
        pid = pid == null ? NamespaceMode.CONTAINER : pid;
        ipc = ipc == null ? NamespaceMode.POD : ipc;
        targetId = Checks.text(targetId);
    }

    /** A user namespace request; {@code null} in {@link Namespaces} means the host's user namespace. */
    public record UserNamespace(java.util.List<IdMapping> uids, java.util.List<IdMapping> gids) {
        public UserNamespace {
            uids = Checks.list(uids);
            gids = Checks.list(gids);
        }
    }

    /** One uid or gid range mapping. */
    public record IdMapping(long hostId, long containerId, long length) {}
}
