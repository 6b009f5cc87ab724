package dev.berth.spi;

import java.util.List;

/** The pod's resolver configuration, from CRI's {@code DNSConfig}. */
public record DnsConfig(List<String> servers, List<String> searches, List<String> options) {
    public static final DnsConfig NONE = new DnsConfig(List.of(), List.of(), List.of());

    public DnsConfig {
        servers = Checks.list(servers);
        searches = Checks.list(searches);
        options = Checks.list(options);
    }

    public boolean isEmpty() {
        return servers.isEmpty() && searches.isEmpty() && options.isEmpty();
    }
}
