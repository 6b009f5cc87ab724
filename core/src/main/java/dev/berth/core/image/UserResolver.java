package dev.berth.core.image;

import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Resolves a user spec ({@code ""}, {@code uid}, {@code name}, {@code uid:gid}, {@code name:group}, ...) to
 * numeric ids with the image's own /etc/passwd and /etc/group, as runc and containerd do: a numeric uid not in
 * passwd runs with gid 0; a name that is not there is an error.
 *
 * <p>The memberships are those of the user actually resolved, found by its passwd name in /etc/group, and only
 * those: a uid with no passwd entry has none (it must not inherit root's groups). An explicit group sets the
 * primary gid and leaves the memberships as they are, as the kubelet expects of {@code run_as_group} with the
 * {@code Merge} policy.
 */
final class UserResolver {
    record Resolved(long uid, long gid, List<Long> additionalGids) {
    }

    private record Passwd(String name, long uid, long gid) {
    }

    private record Group(String name, long gid, List<String> members) {
    }

    private UserResolver() {
    }

    static Resolved resolve(String spec, String imageId, Function<String, Optional<byte[]>> files) {
        String userPart = spec == null ? "" : spec.trim();
        String groupPart = "";
        int colon = userPart.indexOf(':');
        if (colon >= 0) {
            groupPart = userPart.substring(colon + 1);
            userPart = userPart.substring(0, colon);
        }
        List<Passwd> passwd = parsePasswd(files.apply("etc/passwd"));
        List<Group> groups = parseGroups(files.apply("etc/group"));
        long uid;
        long gid;
        String name;
        if (userPart.isEmpty()) {
            uid = 0;
            Passwd p = passwd.stream().filter(x -> x.uid() == 0).findFirst().orElse(null);
            name = p == null ? "root" : p.name();
            gid = p == null ? 0 : p.gid();
        } else if (isNumber(userPart)) {
            uid = Long.parseLong(userPart);
            Passwd p = passwd.stream().filter(x -> x.uid() == uid).findFirst().orElse(null);
            name = p == null ? null : p.name();
            gid = p == null ? 0 : p.gid();
        } else {
            String wanted = userPart;
            Passwd p = passwd.stream().filter(x -> x.name().equals(wanted)).findFirst().orElseThrow(() ->
                    new BackendException(Kind.FAILED_PRECONDITION, "failed to resolve user \"" + wanted
                            + "\" in image \"" + imageId + "\": no such user in /etc/passwd"));
            uid = p.uid();
            gid = p.gid();
            name = p.name();
        }
        if (!groupPart.isEmpty()) {
            if (isNumber(groupPart)) {
                gid = Long.parseLong(groupPart);
            } else {
                String wanted = groupPart;
                gid = groups.stream().filter(g -> g.name().equals(wanted)).findFirst().orElseThrow(() ->
                        new BackendException(Kind.FAILED_PRECONDITION, "failed to resolve group \"" + wanted
                                + "\" in image \"" + imageId + "\": no such group in /etc/group")).gid();
            }
        }
        Set<Long> extra = new LinkedHashSet<>();
        if (name != null) {
            for (Group g : groups) {
                if (g.members().contains(name) && g.gid() != gid) {
                    extra.add(g.gid());
                }
            }
        }
        inRange(uid, "uid", spec, imageId);
        inRange(gid, "gid", spec, imageId);
        for (long g : extra) {
            inRange(g, "supplementary gid", spec, imageId);
        }
        return new Resolved(uid, gid, List.copyOf(extra));
    }

    /**
     * Refuses an id a process cannot run as: one written in the user spec, or one the image's passwd or group file
     * gives, above {@link Image#MAX_ID}. Here rather than in runc, whose refusal would read as an internal error.
     */
    private static void inRange(long id, String what, String spec, String imageId) {
        if (id > Image.MAX_ID) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "user \"" + spec + "\" in image \"" + imageId
                    + "\" resolves to " + what + " " + id + ", out of range: user and group ids are 0 to "
                    + Image.MAX_ID);
        }
    }

    /**
     * Whether a user or group field is a numeric id: non-empty, at most ten characters, all digits. A loop, not a
     * stream: {@link Image#uid()} asks this on every image an ImageStatus or ListImages answers.
     */
    static boolean isNumber(String s) {
        if (s.isEmpty() || s.length() >= 11) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!Character.isDigit(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static List<Passwd> parsePasswd(Optional<byte[]> data) {
        List<Passwd> out = new ArrayList<>();
        for (String[] f : lines(data)) {
            if (f.length >= 4 && isNumber(f[2]) && isNumber(f[3])) {
                out.add(new Passwd(f[0], Long.parseLong(f[2]), Long.parseLong(f[3])));
            }
        }
        return out;
    }

    private static List<Group> parseGroups(Optional<byte[]> data) {
        List<Group> out = new ArrayList<>();
        for (String[] f : lines(data)) {
            if (f.length >= 3 && isNumber(f[2])) {
                List<String> members = f.length >= 4 && !f[3].isBlank() ? List.of(f[3].trim().split(",")) : List.of();
                out.add(new Group(f[0], Long.parseLong(f[2]), members));
            }
        }
        return out;
    }

    private static List<String[]> lines(Optional<byte[]> data) {
        List<String[]> out = new ArrayList<>();
        if (data.isEmpty()) {
            return out;
        }
        for (String line : new String(data.get(), StandardCharsets.UTF_8).split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            out.add(l.split(":", -1));
        }
        return out;
    }
}
