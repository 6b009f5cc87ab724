package dev.berth.spi;

/** A pod port published on the host, from CRI's {@code PortMapping}. */
public record PortMapping(Protocol protocol, int containerPort, int hostPort, String hostIp) {
    public enum Protocol { TCP, UDP, SCTP }

    public PortMapping {
        protocol = protocol == null ? Protocol.TCP : protocol;
        hostIp = Checks.text(hostIp);
    }
}
