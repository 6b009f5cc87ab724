package dev.berth.spi.apicheck;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.annotation.Annotation;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The public API of the SPI package as a signature dump, and the versioning rules that guard it.
 *
 * <p>A dump has one line per public or protected type, constructor, method, field and record component of package
 * {@value #PACKAGE}, each {@code <owner> <kind> <signature>} with generic types, modifiers, throws clauses and
 * the annotations that matter ({@code @Deprecated}, {@code @FunctionalInterface}); lines are sorted. Surface
 * annotated {@code @Experimental}, and everything inside an experimental type, is left out: it may change in any
 * release. The checked-in dump ({@link #FILE}) starts with a header naming the SPI version it was made for.
 *
 * <p>The rules, seen from a plugin that implements the SPI: a removed or changed line, or a new abstract method
 * in an existing interface or abstract class (every implementation would lack it), is incompatible and needs a
 * new major version; any other addition needs a new minor version.
 */
public final class SpiApi {
    public static final String PACKAGE = "dev.berth.spi";
    /** The checked-in dump, relative to the spi module. */
    public static final Path FILE = Path.of("api", "berth-spi.api");
    /** The checked-in dump as the repository names it, for messages. */
    public static final String FILE_NAME = "spi/api/berth-spi.api";
    /** The system property that regenerates the dump instead of checking it. */
    public static final String UPDATE_PROPERTY = "berth.spi.api.update";
    /** The documented command that regenerates the dump. */
    public static final String UPDATE_COMMAND = "mvn -pl spi test -Dberth.spi.api.update=true";

    private static final String HEADER = "# berth SPI public API, made for SPI version ";
    private static final String EXPERIMENTAL = PACKAGE + ".Experimental";

    private SpiApi() {}

    /** A dump: the SPI version it was made for and its sorted lines. */
    public record Dump(String version, SortedSet<String> lines) {
        public Dump {
            lines = new TreeSet<>(lines);
        }

        /** The file's text: the header, how to regenerate, then the lines. */
        public String text() {
            StringBuilder b = new StringBuilder(HEADER).append(version).append('\n');
            b.append("# Checked by SpiApiTest in the spi module; after an allowed change regenerate with: ")
                    .append(UPDATE_COMMAND).append('\n');
            lines.forEach(l -> b.append(l).append('\n'));
            return b.toString();
        }

        public static Dump parse(String text) {
            String version = null;
            SortedSet<String> lines = new TreeSet<>();
            for (String l : text.split("\n")) {
                if (l.startsWith(HEADER)) {
                    version = l.substring(HEADER.length()).strip();
                } else if (!l.isBlank() && !l.startsWith("#")) {
                    lines.add(l);
                }
            }
            if (version == null) {
                throw new IllegalArgumentException("the dump has no header line \"" + HEADER + "X.Y.Z\"");
            }
            return new Dump(version, lines);
        }
    }

    /** How far a change reaches. */
    public enum Impact { NONE, COMPATIBLE, INCOMPATIBLE }

    /** The difference between two dumps: removed lines, added lines, and the additions that break implementors. */
    public record Diff(SortedSet<String> removed, SortedSet<String> added, SortedSet<String> breakingAdditions) {
        public Impact impact() {
            if (!removed.isEmpty() || !breakingAdditions.isEmpty()) {
                return Impact.INCOMPATIBLE;
            }
            return added.isEmpty() ? Impact.NONE : Impact.COMPATIBLE;
        }

        /** What changed, one line each: "removed", "added", or "changed" with the old and new line. */
        public String describe() {
            Map<String, List<String>> removedByKey = byKey(removed);
            Map<String, List<String>> addedByKey = byKey(added);
            List<String> out = new ArrayList<>();
            for (var e : removedByKey.entrySet()) {
                List<String> now = addedByKey.remove(e.getKey());
                if (now != null) {
                    out.add("  changed:  " + e.getKey());
                    e.getValue().forEach(l -> out.add("      was:  " + l));
                    now.forEach(l -> out.add("      now:  " + l
                            + (breakingAdditions.contains(l) ? "   (abstract: every implementation lacks it)" : "")));
                } else {
                    e.getValue().forEach(l -> out.add("  removed:  " + l));
                }
            }
            addedByKey.values().forEach(ls -> ls.forEach(l -> out.add("  added:    " + l
                    + (breakingAdditions.contains(l) ? "   (abstract: every implementation lacks it)" : ""))));
            return String.join("\n", out);
        }

        /** Lines grouped by owner, kind and member name, so that a changed member reads as one change. */
        private static Map<String, List<String>> byKey(SortedSet<String> lines) {
            Map<String, List<String>> m = new LinkedHashMap<>();
            for (String l : lines) {
                m.computeIfAbsent(key(l), k -> new ArrayList<>()).add(l);
            }
            return m;
        }
    }

    /** Compares an old dump's lines with a new one's. */
    public static Diff diff(Dump old, Dump now) {
        SortedSet<String> removed = new TreeSet<>(old.lines());
        removed.removeAll(now.lines());
        SortedSet<String> added = new TreeSet<>(now.lines());
        added.removeAll(old.lines());
        // Owners that already existed and that a plugin implements or extends: interfaces and abstract classes.
        SortedSet<String> implementable = old.lines().stream().filter(l -> l.split(" ", 3)[1].equals("type"))
                .filter(l -> l.contains(" interface ") || l.contains(" abstract class "))
                .map(l -> l.split(" ", 2)[0]).collect(Collectors.toCollection(TreeSet::new));
        SortedSet<String> breaking = added.stream()
                .filter(l -> l.split(" ", 3)[1].equals("method") && implementable.contains(l.split(" ", 2)[0]))
                .filter(l -> (" " + l.split(" ", 3)[2]).contains(" abstract "))
                .collect(Collectors.toCollection(TreeSet::new));
        return new Diff(removed, added, breaking);
    }

    /**
     * Why the SPI version {@code now} is not allowed for a change of {@code impact} from a dump made for {@code was},
     * or null if it is. An incompatible change needs a greater major version; a compatible one a greater minor
     * version (or major); no change any version that does not go back.
     */
    public static String versionProblem(String was, String now, Impact impact) {
        int[] a = parse(was);
        int[] b = parse(now);
        boolean major = b[0] > a[0];
        boolean minor = major || (b[0] == a[0] && b[1] > a[1]);
        return switch (impact) {
            case INCOMPATIBLE -> major ? null : "an incompatible change needs a new major SPI version: set "
                    + "berth.spi.version in the root pom.xml to " + (a[0] + 1) + ".0.0 (it is " + now + "; plugins "
                    + "built for " + a[0] + ".x will then be refused, as they should)";
            case COMPATIBLE -> minor ? null : "an addition needs a new minor SPI version: set berth.spi.version in "
                    + "the root pom.xml to " + a[0] + "." + (a[1] + 1) + ".0 (it is " + now + ")";
            case NONE -> compare(b, a) >= 0 ? null : "the SPI version went back from " + was + " to " + now;
        };
    }

    private static int compare(int[] x, int[] y) {
        return Arrays.compare(x, y);
    }

    static int[] parse(String version) {
        String[] p = version.split("\\.");
        if (p.length != 3) {
            throw new IllegalArgumentException("SPI version \"" + version + "\" is not MAJOR.MINOR.PATCH");
        }
        return new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2])};
    }

    // ---- computing a dump from compiled classes ---------------------------------------------------------------

    /**
     * The dump of the SPI package compiled under {@code classes} (a class-path root), with its classes loaded
     * (not initialised) through {@code loader}.
     */
    public static Dump compute(Path classes, ClassLoader loader, String version) {
        Path dir = classes.resolve(PACKAGE.replace('.', '/'));
        List<String> names;
        try (Stream<Path> s = Files.list(dir)) {
            names = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".class"))
                    .map(n -> PACKAGE + "." + n.substring(0, n.length() - ".class".length()))
                    .filter(n -> !n.endsWith(".package-info")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SortedSet<String> lines = new TreeSet<>();
        for (String name : names) {
            Class<?> c;
            try {
                c = Class.forName(name, false, loader);
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("cannot load " + name, e);
            }
            if (isApi(c)) {
                addType(c, lines);
            }
        }
        return new Dump(version, lines);
    }

    /** A type a plugin can see and that is not experimental: public or protected, as are its enclosing types. */
    private static boolean isApi(Class<?> c) {
        if (c.isSynthetic() || c.isAnonymousClass() || c.isLocalClass()) {
            return false;
        }
        for (Class<?> t = c; t != null; t = t.getDeclaringClass()) {
            if (!(Modifier.isPublic(t.getModifiers()) || Modifier.isProtected(t.getModifiers()))
                    || experimental(t)) {
                return false;
            }
        }
        return true;
    }

    private static boolean visible(Member m) {
        return !m.isSynthetic() && (Modifier.isPublic(m.getModifiers()) || Modifier.isProtected(m.getModifiers()));
    }

    private static void addType(Class<?> c, SortedSet<String> lines) {
        String owner = c.getName();
        lines.add(owner + " type " + annotations(c) + typeSignature(c));
        if (c.isRecord()) {
            RecordComponent[] rc = c.getRecordComponents();
            for (int i = 0; i < rc.length; i++) {
                if (!experimental(rc[i])) {
                    lines.add(owner + " component " + String.format("%02d", i) + " " + annotations(rc[i])
                            + rc[i].getGenericType().getTypeName() + " " + rc[i].getName());
                }
            }
        }
        for (Constructor<?> k : c.getDeclaredConstructors()) {
            if (visible(k) && !experimental(k)) {
                lines.add(owner + " constructor " + annotations(k) + k.toGenericString());
            }
        }
        for (Method m : c.getDeclaredMethods()) {
            if (visible(m) && !m.isBridge() && !experimental(m) && !experimentalComponent(c, m)) {
                lines.add(owner + " method " + annotations(m) + unqualified(m.toGenericString(), c, m.getName()));
            }
        }
        for (Field f : c.getDeclaredFields()) {
            if (visible(f) && !experimental(f)) {
                lines.add(owner + " field " + annotations(f) + unqualified(f.toGenericString(), c, f.getName()));
            }
        }
    }

    /** {@code Owner.name} in a member's generic string becomes {@code name}: the line already names its owner. */
    private static String unqualified(String generic, Class<?> owner, String name) {
        return generic.replace(owner.getTypeName() + "." + name, name);
    }

    /** Modifiers, kind, name and type parameters, then what it extends and implements, all generic. */
    private static String typeSignature(Class<?> c) {
        StringBuilder b = new StringBuilder();
        int mods = c.getModifiers() & ~Modifier.INTERFACE & ~Modifier.STATIC;
        if (c.isInterface()) {
            mods &= ~Modifier.ABSTRACT;
        }
        String m = Modifier.toString(mods);
        if (!m.isEmpty()) {
            b.append(m).append(' ');
        }
        if (c.getDeclaringClass() != null && Modifier.isStatic(c.getModifiers()) && !c.isInterface() && !c.isEnum()
                && !c.isRecord() && !c.isAnnotation()) {
            b.append("static ");
        }
        b.append(c.isAnnotation() ? "@interface" : c.isInterface() ? "interface" : c.isEnum() ? "enum"
                : c.isRecord() ? "record" : "class").append(' ').append(c.getName());
        TypeVariable<?>[] tv = c.getTypeParameters();
        if (tv.length > 0) {
            b.append(Arrays.stream(tv).map(SpiApi::typeVariable).collect(Collectors.joining(",", "<", ">")));
        }
        Type sup = c.getGenericSuperclass();
        if (sup != null && sup != Object.class && !c.isEnum() && !c.isRecord()) {
            b.append(" extends ").append(sup.getTypeName());
        }
        Type[] is = c.getGenericInterfaces();
        if (c.isAnnotation()) {
            is = new Type[0];
        }
        if (is.length > 0) {
            b.append(c.isInterface() ? " extends " : " implements ")
                    .append(Arrays.stream(is).map(Type::getTypeName).collect(Collectors.joining(", ")));
        }
        return b.toString();
    }

    private static String typeVariable(TypeVariable<?> v) {
        String bounds = Arrays.stream(v.getBounds()).filter(t -> t != Object.class).map(Type::getTypeName)
                .collect(Collectors.joining(" & "));
        return bounds.isEmpty() ? v.getName() : v.getName() + " extends " + bounds;
    }

    /** The annotations that change what a plugin may rely on; the SPI's own ones but @Experimental too. */
    private static String annotations(AnnotatedElement e) {
        StringBuilder b = new StringBuilder();
        for (Annotation a : e.getDeclaredAnnotations()) {
            String n = a.annotationType().getName();
            if (n.equals(EXPERIMENTAL)) {
                continue;
            }
            if (n.equals("java.lang.Deprecated") || n.equals("java.lang.FunctionalInterface")
                    || n.startsWith(PACKAGE + ".")) {
                b.append('@').append(n).append(' ');
            }
        }
        return b.toString();
    }

    private static boolean experimental(AnnotatedElement e) {
        return Arrays.stream(e.getDeclaredAnnotations())
                .anyMatch(a -> a.annotationType().getName().equals(EXPERIMENTAL));
    }

    /** A record's accessor of a component marked experimental goes with its component. */
    private static boolean experimentalComponent(Class<?> c, Method m) {
        if (!c.isRecord() || m.getParameterCount() != 0) {
            return false;
        }
        return Arrays.stream(c.getRecordComponents()).anyMatch(r -> r.getName().equals(m.getName()) && experimental(r));
    }

    /** A line's owner, kind and member name: what a change keeps. */
    static String key(String line) {
        String[] p = line.split(" ", 3);
        String owner = p[0];
        String kind = p[1];
        String rest = p[2];
        return switch (kind) {
            case "type", "constructor" -> owner + " " + kind;
            case "component" -> owner + " component " + rest.substring(rest.lastIndexOf(' ') + 1);
            default -> {
                int paren = rest.indexOf('(');
                String head = paren < 0 ? rest : rest.substring(0, paren);
                head = head.strip();
                yield owner + " " + kind + " " + head.substring(head.lastIndexOf(' ') + 1);
            }
        };
    }

    // ---- the check ----------------------------------------------------------------------------------------------

    /**
     * Checks {@code now} against the checked-in {@code recorded} dump. Returns null when they agree. Otherwise, in
     * check mode, the failure message; in update mode, null if the version rules allow the change (the caller then
     * writes {@code now}), else the refusal.
     */
    public static String check(Dump recorded, Dump now, boolean update) {
        Diff d = diff(recorded, now);
        Impact impact = d.impact();
        if (impact == Impact.NONE && recorded.version().equals(now.version())) {
            return null;
        }
        String problem = versionProblem(recorded.version(), now.version(), impact);
        if (update) {
            return problem == null ? null
                    : "refusing to regenerate " + FILE_NAME + ": " + problem + ".\n" + d.describe();
        }
        StringBuilder b = new StringBuilder();
        if (impact == Impact.NONE) {
            b.append("The SPI version is ").append(now.version()).append(" but ").append(FILE_NAME)
                    .append(" was made for ").append(recorded.version()).append("; the API is the same.\n");
        } else {
            b.append("The public API of the berth SPI (package ").append(PACKAGE).append(") differs from ")
                    .append(FILE_NAME).append(" (made for SPI ").append(recorded.version())
                    .append("; the build's SPI version is ").append(now.version()).append("):\n")
                    .append(d.describe()).append('\n');
            b.append(impact == Impact.INCOMPATIBLE
                    ? "This is an incompatible change (a removal, a changed signature or a new abstract method).\n"
                    : "This is a compatible addition.\n");
        }
        if (problem != null) {
            b.append("First ").append(problem).append(".\n");
        }
        b.append("Then regenerate the dump with\n    ").append(UPDATE_COMMAND).append("\nand commit ")
                .append(FILE_NAME).append(" with the change. Surface that is not ready to be frozen can be annotated ")
                .append("@Experimental(eta = \"yyyy-MM-dd\") instead: it is left out of the dump.");
        return b.toString();
    }
}
