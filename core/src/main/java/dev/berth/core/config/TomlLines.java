package dev.berth.core.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the line on which each key of a TOML document is written, so that config errors can point at it.
 * The TOML parser itself keeps no locations. This is a line scanner for the common layouts (tables, array
 * tables, dotted and quoted keys); a key it cannot place simply has no line.
 */
final class TomlLines {
    private TomlLines() {}

    /** Dotted key path (e.g. {@code runtimes.crun.options.binary}) to 1-based line number. */
    static Map<String, Integer> locate(String text) {
        Map<String, Integer> lines = new HashMap<>();
        List<String> table = List.of();
        String[] all = text.split("\n", -1);
        for (int i = 0; i < all.length; i++) {
            String line = stripComment(all[i]).strip();
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("[")) {
                String inner = line.replaceAll("^\\[+", "").replaceAll("]+$", "");
                table = splitKey(inner);
                lines.putIfAbsent(String.join(".", table), i + 1);
                continue;
            }
            int eq = indexOutsideQuotes(line, '=');
            if (eq <= 0) {
                continue;
            }
            List<String> key = new ArrayList<>(table);
            key.addAll(splitKey(line.substring(0, eq)));
            lines.putIfAbsent(String.join(".", key), i + 1);
        }
        return lines;
    }

    private static String stripComment(String line) {
        int hash = indexOutsideQuotes(line, '#');
        return hash < 0 ? line : line.substring(0, hash);
    }

    private static int indexOutsideQuotes(String s, char target) {
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == '\\' && quote == '"') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == target) {
                return i;
            }
        }
        return -1;
    }

    static List<String> splitKey(String key) {
        List<String> parts = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        char quote = 0;
        for (char c : key.strip().toCharArray()) {
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    cur.append(c);
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '.') {
                parts.add(cur.toString().strip());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        parts.add(cur.toString().strip());
        return parts;
    }
}
