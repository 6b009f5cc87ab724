/**
 * The OCI runtime spec as typed records ({@link dev.berth.oci.spec.RuntimeSpec}), their JSON
 * ({@link dev.berth.oci.spec.OciJson}, Jackson, null fields left out) and the one mapping from the SPI's pod and
 * container specs to it ({@link dev.berth.oci.spec.SpecMapper}).
 *
 * <h2>Who uses it</h2>
 * Both Linux plugins build every {@code config.json}, exec process and update through
 * {@link dev.berth.oci.spec.SpecMapper}: the kata plugin ({@code dev.berth.kata.oci.KataSpecs}, which adds Kata's
 * pod sizing annotations) and the runc plugin ({@code dev.berth.runc.OciSpecs}, which adds the cgroups path of its
 * cgroup driver, resolved devices and its refusal of user namespaces). Each plugin's golden files
 * ({@code OciSpecGoldenTest} in plugins/kata and plugins/runc) pin its output.
 *
 * <h2>What the mapping decides for both</h2>
 * The process (command, cwd, user with the pod's extra groups, capabilities within what the host grants, the
 * environment merged by key with a default {@code PATH}), the namespaces a container joins (the pod's by
 * {@link dev.berth.oci.spec.SpecMapper.PodRef#namespace}, pinned ones included; a pod on the host's pid namespace
 * gives its containers no other), the default mounts (a pod's shared {@code /dev/shm} bound in), the pod's files
 * unless a CRI mount takes their place, CRI mounts replacing default mounts at the same destination, seccomp,
 * masked and read-only paths, the device cgroup with resolved devices, limits, sysctls, and the refusals, as
 * {@code BackendException.invalid} naming the container. What the host or runtime can do comes in as
 * {@link dev.berth.oci.spec.SpecMapper.Host} facts (oom score floor, {@code rro}, AppArmor, grantable
 * capabilities, Localhost seccomp profiles).
 *
 * <h2>Where the plugins differ</h2>
 * Only through {@link dev.berth.oci.spec.SpecMapper.Conventions}, one value per plugin (lists, and the named
 * {@link dev.berth.oci.spec.SpecMapper.Option}s it takes), each choice read in one place. Most are form, kept so that neither plugin's output moved when runc's own builder was folded in:
 * <ul>
 *   <li>the order of {@code linux.namespaces} (runc mount first, kata pid first);</li>
 *   <li>whether writable mounts say {@code rw} (kata) or only read-only ones say {@code ro} (runc), and where a
 *       bind's access stands relative to its propagation;</li>
 *   <li>a privileged container's device cgroup: one rule allowing all (runc) or none (kata).</li>
 * </ul>
 * The rest are what a plugin adds: which of containerd's CRI annotations the spec carries (kata all of them, which
 * the shim groups a pod by; runc the container type and sandbox id), the masked paths (runc containerd 1.7's, with
 * powercap; kata the list before), whether the pause container is confined like a workload (runc: masked paths
 * and the pod's files), the {@code /sys/fs/cgroup} mount (runc; Kata's agent sets up the guest's), and whether a
 * container on the host's network gets the pod's {@code /etc/hostname} (kata).
 *
 * <h2>Changes of output when runc's builder was folded in</h2>
 * The runc golden files did not move. Kata's moved in one place, a bug: a container asking for the pod's pid
 * namespace in a pod on the host's pid namespace got a new pid namespace of its own (it now gets none, the
 * pod's). Kata also takes runc's behaviour where its goldens do not reach: the environment merged by key (an image
 * {@code PATH} or a request variable of the same name no longer follows the default or the image's, which
 * {@code getenv} would have found first), refusal of a TARGET pid namespace whose target is not running, of a CRI
 * mount without host path and of an {@code rro} mount (Kata has none), and runc's refusal messages.
 */
package dev.berth.oci.spec;
