package dev.berth.core.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Section 8 man pages in roff, written straight from the commands' picocli model at package build time: {@code
 * berth(8)} and one {@code berth-<command>(8)} per subcommand (nested ones too, {@code berth-config-validate(8)}),
 * so that the pages say what {@code --help} says. No asciidoc step: the Debian build needs nothing beyond the image.
 *
 * <p>Usage: {@code ManPages DIR VERSION DATE} writes {@code DIR/<name>.8} for every command that is not hidden.
 */
public final class ManPages {
    private ManPages() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: ManPages DIR VERSION DATE");
            System.exit(2);
        }
        for (Path p : write(Path.of(args[0]), args[1], args[2])) {
            System.out.println(p);
        }
    }

    /** Writes one page per visible command of {@code berth} into {@code dir}; returns the files. */
    public static List<Path> write(Path dir, String version, String date) throws IOException {
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        for (CommandLine c : commands(new CommandLine(new Main()))) {
            Path file = dir.resolve(pageName(c.getCommandSpec()) + ".8");
            Files.writeString(file, page(c.getCommandSpec(), version, date), StandardCharsets.UTF_8);
            written.add(file);
        }
        return written;
    }

    /** The command and every visible subcommand below it, depth first. */
    static List<CommandLine> commands(CommandLine root) {
        List<CommandLine> all = new ArrayList<>();
        all.add(root);
        for (CommandLine sub : root.getSubcommands().values()) {
            // Aliases map to the same CommandLine: once each.
            if (!sub.getCommandSpec().usageMessage().hidden() && all.stream().noneMatch(c -> c == sub)
                    && sub.getCommandSpec().name().equals(sub.getCommandName())) {
                all.addAll(commands(sub));
            }
        }
        return all;
    }

    /** {@code berth}, {@code berth-daemon}, {@code berth-config-validate}. */
    static String pageName(CommandSpec spec) {
        return spec.qualifiedName("-");
    }

    static String page(CommandSpec spec, String version, String date) {
        StringBuilder out = new StringBuilder();
        String name = pageName(spec);
        out.append(".\\\" Generated from berth's command definitions; do not edit.\n");
        out.append(".TH \"").append(escape(name.toUpperCase(Locale.ROOT))).append("\" \"8\" \"")
                .append(plain(date)).append("\" \"berth ").append(plain(version))
                .append("\" \"System Administration\"\n");
        out.append(".SH NAME\n").append(escape(name)).append(" \\- ").append(escape(summary(spec))).append('\n');

        out.append(".SH SYNOPSIS\n.nf\n");
        CommandLine.Help help = new CommandLine.Help(spec,
                CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
        for (String line : help.synopsis(0).strip().split("\\R")) {
            out.append(escapeLine(line)).append('\n');
        }
        out.append(".fi\n");

        out.append(".SH DESCRIPTION\n");
        paragraphs(out, spec.usageMessage().description().length > 0 ? spec.usageMessage().description()
                : spec.usageMessage().header());

        List<OptionSpec> options = spec.options().stream().filter(o -> !o.hidden()).toList();
        if (!options.isEmpty()) {
            out.append(".SH OPTIONS\n");
            for (OptionSpec o : options) {
                out.append(".TP\n");
                List<String> names = new ArrayList<>();
                for (String n : o.names()) {
                    names.add("\\fB" + escape(n) + "\\fR");
                }
                out.append(String.join(", ", names));
                if (o.arity().max() > 0) {
                    out.append("=\\fI").append(escape(o.paramLabel())).append("\\fR");
                }
                out.append('\n');
                paragraphs(out, o.description());
            }
        }
        List<PositionalParamSpec> params = spec.positionalParameters().stream().filter(p -> !p.hidden()).toList();
        if (!params.isEmpty()) {
            out.append(".SH ARGUMENTS\n");
            for (PositionalParamSpec p : params) {
                out.append(".TP\n\\fI").append(escape(p.paramLabel())).append("\\fR\n");
                paragraphs(out, p.description());
            }
        }
        List<CommandLine> subs = commands(spec.commandLine()).subList(1, commands(spec.commandLine()).size())
                .stream().filter(c -> c.getParent() == spec.commandLine()).toList();
        if (!subs.isEmpty()) {
            out.append(".SH COMMANDS\n");
            for (CommandLine c : subs) {
                out.append(".TP\n\\fB").append(escape(c.getCommandName())).append("\\fR\n")
                        .append(escape(summary(c.getCommandSpec()))).append(" See \\fB")
                        .append(escape(pageName(c.getCommandSpec()))).append("\\fR(8).\n");
            }
        }
        if (spec.parent() == null) {
            out.append(".SH FILES\n")
                    .append(".TP\n\\fI/etc/berth/config.toml\\fR, \\fI/etc/berth/config.d/*.toml\\fR\n")
                    .append("The configuration and its drop\\-ins, merged in lexical order (\\fBberth\\-config\\fR(8)).\n")
                    .append(".TP\n\\fI/run/berth/berth.sock\\fR\n")
                    .append("The CRI socket the kubelet and \\fBcrictl\\fR talk to (the default \\fIsocket\\fR).\n")
                    .append(".TP\n\\fI/var/lib/berth\\fR, \\fI/run/berth\\fR\n")
                    .append("Images and snapshots; the runtime state of pods and containers.\n");
        }
        out.append(".SH SEE ALSO\n");
        List<String> see = new ArrayList<>();
        if (spec.parent() != null) {
            see.add(pageName(spec.parent()));
        }
        for (CommandLine c : subs) {
            see.add(pageName(c.getCommandSpec()));
        }
        if (spec.parent() == null) {
            see.add("systemctl");
        }
        List<String> refs = new ArrayList<>();
        for (String s : see) {
            refs.add("\\fB" + escape(s) + "\\fR(" + (s.equals("systemctl") ? "1" : "8") + ")");
        }
        out.append(String.join(",\n", refs)).append('\n');
        return out.toString();
    }

    /** The first sentence of the description, for NAME and the command lists: whatis shows it on one line. */
    static String summary(CommandSpec spec) {
        String[] d = spec.usageMessage().header().length > 0 ? spec.usageMessage().header()
                : spec.usageMessage().description();
        String first = d.length == 0 ? spec.name() : text(d[0]).strip().split("\\R")[0].strip();
        int stop = first.indexOf(". ");
        return stop < 0 ? first : first.substring(0, stop + 1);
    }

    /** Description lines: roff fills each element into a paragraph; {@code %n} breaks a line. */
    private static void paragraphs(StringBuilder out, String[] lines) {
        boolean first = true;
        for (String element : lines) {
            if (!first) {
                out.append(".PP\n");
            }
            first = false;
            String[] parts = text(element).strip().split("\\R", -1);
            for (int i = 0; i < parts.length; i++) {
                if (i > 0) {
                    out.append(".br\n");
                }
                if (!parts[i].isBlank()) {
                    out.append(escapeLine(parts[i].strip())).append('\n');
                }
            }
        }
    }

    /** picocli's description markup: {@code %n} is a line break, {@code %%} a percent sign. */
    private static String text(String s) {
        return s.replace("%n", "\n").replace("%%", "%");
    }

    /** A .TH field: its own characters, without the quote and backslash that would end or escape it. */
    private static String plain(String s) {
        return s.replace("\"", "").replace("\\", "");
    }

    /** A text line: escaped, and kept from being read as a request when it starts with a dot or a quote. */
    static String escapeLine(String s) {
        String e = escape(s);
        return e.startsWith(".") || e.startsWith("'") ? "\\&" + e : e;
    }

    /** Backslashes, hyphens as minus signs (options must copy and paste), and non-ASCII as roff's unicode names. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 8);
        s.codePoints().forEach(cp -> {
            if (cp == '\\') {
                b.append("\\e");
            } else if (cp == '-') {
                b.append("\\-");
            } else if (cp == '\t') {
                b.append(' ');
            } else if (cp < 0x20 || cp == 0x7f) {
                // control characters have no place in a page
            } else if (cp > 0x7e) {
                b.append(String.format("\\[u%04X]", cp));
            } else {
                b.append((char) cp);
            }
        });
        return b.toString();
    }
}
