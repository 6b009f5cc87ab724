package dev.berth.spi;

/** An SELinux label, from CRI's {@code SELinuxOption}; all parts empty means "none". */
public record SelinuxLabel(String user, String role, String type, String level) {
    public static final SelinuxLabel NONE = new SelinuxLabel("", "", "", "");

    public SelinuxLabel {
        user = Checks.text(user);
        role = Checks.text(role);
        type = Checks.text(type);
        level = Checks.text(level);
    }

    public boolean isEmpty() {
        return user.isEmpty() && role.isEmpty() && type.isEmpty() && level.isEmpty();
    }
}
