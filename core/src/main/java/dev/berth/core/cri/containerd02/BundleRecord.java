package dev.berth.core.cri.containerd02;

/**
 * Core's record of a container of the containerd 0.2 API: the client's id and bundle, and the handler generation
 * whose backend runs it. Kept in a store of its own ({@code records/containerd02}), apart from CRI's pods and
 * containers, and written before the backend acts.
 */
public record BundleRecord(String id, String bundlePath, String handler, int generation, String createdAt) {}
