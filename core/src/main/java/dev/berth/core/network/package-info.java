/**
 * Pod networking: network namespaces, CNI, NetworkReady, and the pod's resolv.conf/hosts/hostname files.
 *
 * <p>{@link dev.berth.core.network.PodNetworking} is the one entry point. How core uses it:
 * <ul>
 *   <li><b>Startup.</b> {@code new PodNetworking(new NetworkSettings(confDir, binDirs, stateDir, timeout))} once; it
 *       creates {@code <stateDir>/netns} and {@code <stateDir>/cni} and starts watching the conf dir (which may not
 *       exist yet). After restoring its own sandbox store, core calls {@code tearDown(id)} for every id in
 *       {@code sandboxIds()} that it no longer knows (pins and state survive a restart or {@code kill -9}).</li>
 *   <li><b>RunPodSandbox</b> (not hostNetwork): {@code setUp(new PodNetworkRequest(...))} before the backend creates
 *       the sandbox; pass {@code PodNetwork.netnsPath()} as {@code SandboxSpec.netnsPath}. If a later step fails,
 *       call {@code tearDown(id)} in the rollback. {@code setUp} rolls itself back when it fails. Then write the
 *       pod's files with {@code writeResolvConf}, {@code writeHosts} (with {@code PodNetwork.ip()} and
 *       {@code additionalIps()}) and {@code writeHostname}. For hostNetwork pods skip {@code setUp} and copy the
 *       host's files ({@code writeResolvConf} with the pod's DNS config still applies).</li>
 *   <li><b>StopPodSandbox / RemovePodSandbox</b>: {@code tearDown(id)} after the backend stopped the sandbox. It is
 *       idempotent, so both may call it; an unknown id is a no-op. If it throws, keep the sandbox so kubelet retries.</li>
 *   <li><b>PodSandboxStatus</b>: {@code find(id)} gives the IP and additional IPs, from the persisted state.</li>
 *   <li><b>Status</b>: {@code readiness()} is the {@code NetworkReady} condition (reason {@code NetworkPluginNotReady}
 *       and a message while there is no usable config).</li>
 *   <li><b>UpdateRuntimeConfig</b>: {@code updatePodCidr(cidr)}; it reaches plugins declaring the {@code ipRanges}
 *       capability for pods set up afterwards.</li>
 *   <li><b>berth doctor</b>: {@code doctor()} lines; the README's run command can call
 *       {@code PodNetworking.installDefaultConfig(confDir)}, which writes {@code 10-berth-bridge.conflist} only into a
 *       conf dir without any config.</li>
 * </ul>
 *
 * <p>Runtime requirements: root, and {@code --enable-native-access=ALL-UNNAMED} on the JVM (namespaces are made with
 * {@code java.lang.foreign}: {@code unshare}, {@code mount}, {@code setns}, {@code umount2}, {@code ioctl}). All
 * errors are {@link dev.berth.spi.BackendException}s whose messages read {@code failed to <verb> pod network "<id>":
 * ...} and carry the plugin's own message.
 */
package dev.berth.core.network;
