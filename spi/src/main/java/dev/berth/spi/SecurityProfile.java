package dev.berth.spi;

/** A seccomp or AppArmor profile choice, from CRI's {@code SecurityProfile}. */
public record SecurityProfile(Type type, String localhostRef) {
    public enum Type { RUNTIME_DEFAULT, UNCONFINED, LOCALHOST }

    public static final SecurityProfile UNCONFINED = new SecurityProfile(Type.UNCONFINED, "");
    public static final SecurityProfile RUNTIME_DEFAULT = new SecurityProfile(Type.RUNTIME_DEFAULT, "");

    public SecurityProfile {
        type = type == null ? Type.UNCONFINED : type;
        localhostRef = Checks.text(localhostRef);
        if (type == Type.LOCALHOST && localhostRef.isEmpty()) {
            throw new IllegalArgumentException("a Localhost security profile needs a profile path");
        }
    }
}
