/**
 * berth's image service: image references, a registry client on the JDK {@code HttpClient}, a content-addressed
 * blob store, safe layer unpacking into overlayfs lower directories, and container root file systems handed to
 * backends as {@link dev.berth.spi.MountSpec}s.
 *
 * <p>The entry point is {@link dev.berth.core.image.ImageService}; everything it throws is a
 * {@link dev.berth.spi.BackendException} whose {@code Kind} maps to a gRPC status.
 *
 * <p>How CRI's {@code ImageService} maps onto {@link dev.berth.core.image.ImageService} (v1 and v1alpha2 alike):
 * <ul>
 *   <li>{@code PullImage(image, auth)}: {@code pull(image.image, new RegistryCredentials(auth.username,
 *       auth.password, auth.auth, auth.identity_token, auth.registry_token))}; reply with {@code Image.id()}.</li>
 *   <li>{@code ImageStatus(image)}: {@code find(image.image)}; empty means "no image" (not an error). CRI's
 *       {@code Image} is {@code id, repoTags, repoDigests, size, uid(), username(), pinned}; verbose info can
 *       carry {@code platform()}, {@code manifestJson} and {@code configJson}.</li>
 *   <li>{@code ListImages(filter)}: {@code list()}, or {@code find(filter.image.image)} when a filter is set.</li>
 *   <li>{@code RemoveImage(image)}: {@code remove(image.image)}, idempotent.</li>
 *   <li>{@code ImageFsInfo}: {@code usage()} for {@code image_filesystems} and {@code container_filesystems}.</li>
 *   <li>CreateContainer: {@code imageConfig(ref, user)} for the process defaults and the user it runs as, and
 *       {@code prepareRootfs(containerId, imageId)} for the {@code MountSpec}s handed to the backend;
 *       RemoveContainer: {@code releaseRootfs(containerId)} after the backend unmounted.</li>
 *   <li>{@code ContainerStats}, {@code ListContainerStats}, {@code PodSandboxStats}: {@code writableLayer(containerId)}
 *       for {@code writable_layer}, a cached reading of the container's upper directory, on the file system
 *       {@code ImageFsInfo} names for containers.</li>
 *   <li>The sandbox image ({@link dev.berth.core.image.ImageSettings#sandboxImage()}) is pinned when pulled.</li>
 * </ul>
 *
 * <p>On-disk layout under {@link dev.berth.core.image.ImageSettings#root()}:
 * <pre>
 *   metadata.json                    images, layer snapshots, container snapshots (written atomically)
 *   content/blobs/sha256/&lt;hex&gt;       manifests, configs and layer blobs, each stored once
 *   content/ingest/                  downloads in progress (emptied at start-up)
 *   snapshots/&lt;n&gt;/fs                 an unpacked layer (an overlay lowerdir), shared by every image that has it
 *   snapshots/&lt;n&gt;/fs, snapshots/&lt;n&gt;/work   a container's upperdir and workdir
 *   snapshots/&lt;n&gt;/fs                 a Windows container's scratch directory (no work directory)
 * </pre>
 * A Windows image's layers (config {@code os: windows}) are never unpacked: they stay blobs, handed to the backend
 * by {@link dev.berth.core.image.WindowsLayers}.
 * Snapshot directories use short numeric ids so that an overlay mount's option string ({@code lowerdir=a:b:...}),
 * which the kernel limits to one page (4096 bytes), fits images with many layers: with a root of about 30
 * characters each layer costs about 40 bytes, so roughly 90 layers fit.
 */
package dev.berth.core.image;
