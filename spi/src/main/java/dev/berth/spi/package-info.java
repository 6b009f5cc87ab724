/**
 * The berth backend SPI: the contract between berth's core and its runtime backends.
 *
 * <p>A plugin contributes one or more backend <em>types</em> through {@link dev.berth.spi.RuntimeBackendFactory}.
 * The operator's config names handlers and maps each to a type plus opaque options, so one type can serve
 * many handlers. Core creates one {@link dev.berth.spi.RuntimeBackend} per handler and routes every call for a
 * pod to the backend that created it.
 *
 * <p>The SPI is hand-written and small on purpose: records with validating constructors, one unchecked
 * {@link dev.berth.spi.BackendException} with a {@link dev.berth.spi.BackendException.Kind}, and optional
 * capabilities as separate interfaces ({@link dev.berth.spi.Recoverable}, {@link dev.berth.spi.StatsProvider},
 * {@link dev.berth.spi.StreamingIo}, {@link dev.berth.spi.PortForwarding}, {@link dev.berth.spi.Checkpointing},
 * {@link dev.berth.spi.EventSource}, {@link dev.berth.spi.LogReopening},
 * {@link dev.berth.spi.PodMetricsSource}). Core answers {@code UNIMPLEMENTED} when a
 * backend lacks a capability. No gRPC, protobuf, Jackson or PF4J types appear here, apart from PF4J's
 * {@code ExtensionPoint} marker.
 *
 * <p>Its version is {@link dev.berth.spi.SpiVersion#CURRENT}; plugins declare {@code Plugin-Requires} against it.
 */
package dev.berth.spi;
