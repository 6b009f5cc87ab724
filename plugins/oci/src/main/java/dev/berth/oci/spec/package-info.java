/**
 * The OCI runtime spec as typed records ({@link dev.berth.oci.spec.RuntimeSpec}), their JSON
 * ({@link dev.berth.oci.spec.OciJson}, Jackson, null fields left out) and the one mapping from the SPI's pod and
 * container specs to it ({@link dev.berth.oci.spec.SpecMapper}).
 *
 * <h2>Who uses it</h2>
 * The kata plugin writes every {@code config.json}, exec process and update from here (plus Kata's sizing
 * annotations); its golden files (plugins/kata, {@code OciSpecGoldenTest}) pin that output to what its earlier
 * map-based builder wrote. The runc plugin builds the same records with its own policy
 * ({@code dev.berth.runc.OciSpecs}: pod and host facts, the cgroup mount, devices, AppArmor, refusals) and takes
 * its limits from {@link dev.berth.oci.spec.SpecMapper#resources}, the one resource mapping; its golden files
 * (plugins/runc, {@code OciSpecGoldenTest}) were captured from its earlier {@code ObjectNode} builder.
 *
 * <h2>What is left to share</h2>
 * runc's sandbox and container builders and {@link dev.berth.oci.spec.SpecMapper}'s differ where the two plugins
 * differ today; each step below is checked by both golden tests (neither output may move unless on purpose):
 * <ol>
 *   <li>Pod facts: {@link dev.berth.oci.spec.SpecMapper.PodRef} gains the cgroup parent, the pod's supplemental
 *       groups (merged into each container's), the shared {@code /dev/shm} (bound instead of a private tmpfs) and
 *       the pinned namespaces of a pod without a pause process; namespace paths come from one method, as in runc's
 *       {@code Pod.namespace}.</li>
 *   <li>Host facts: {@link dev.berth.oci.spec.SpecMapper.Host} gains berth's own {@code oom_score_adj} (the floor
 *       of every process's {@code oomScoreAdj}), recursive read-only support ({@code rro}) and the cgroup driver
 *       (runc's systemd {@code slice:berth:id} cgroups path).</li>
 *   <li>Container details runc has and kata does not yet: the {@code /sys/fs/cgroup} mount, CRI mounts replacing
 *       default mounts at the same destination, no {@code /etc/hostname} with host networking, AppArmor
 *       ({@code apparmorProfile}), devices ({@code linux.devices} and their allow rules), the pause container's
 *       masked paths and pod files, and the environment merged by key with a default {@code PATH}. Where the two
 *       plugins differ on purpose (kata's Kata annotations, runc's refusal of user namespaces), the plugin decides
 *       and the mapping takes a parameter.</li>
 *   <li>Refusals become {@code BackendException.invalid} in the mapping (kata maps its IllegalArgumentException
 *       to that today), with runc's messages.</li>
 * </ol>
 */
package dev.berth.oci.spec;
