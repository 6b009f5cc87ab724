package dev.berth.core.image;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What one pull uses and what it wrote itself. {@code uses} is changed under the {@link ImageStore}'s lock only,
 * so that {@link ImageGc#discard} never removes what another running pull is about to use.
 */
final class PullScratch {
    final Set<String> uses = new HashSet<>();
    final Set<String> wroteBlobs = ConcurrentHashMap.newKeySet();
    final Set<String> unpacked = ConcurrentHashMap.newKeySet();
}
