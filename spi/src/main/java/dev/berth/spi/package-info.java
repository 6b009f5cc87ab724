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
 * {@link dev.berth.spi.SandboxResizing}, {@link dev.berth.spi.LogReopening},
 * {@link dev.berth.spi.PodMetricsSource}). Core answers {@code UNIMPLEMENTED}
 * when a backend lacks a capability. What a handler supports and needs is data, {@link
 * dev.berth.spi.BackendFeatures}. No gRPC, protobuf, Jackson or PF4J types appear here, apart from PF4J's
 * {@code ExtensionPoint} marker. The common contract of every method (threading, errors, cleanup, idempotency) is
 * on {@link dev.berth.spi.RuntimeBackend}.
 *
 * <p>Its version is {@link dev.berth.spi.SpiVersion#CURRENT}, a semantic version of its own; plugins declare
 * {@code Plugin-Requires} against it. Within a major version the SPI only grows; the build checks that against
 * the recorded public API ({@code spi/api/berth-spi.api}). Surface marked {@link dev.berth.spi.Experimental} (such
 * as {@link dev.berth.spi.EventSource} and {@link dev.berth.spi.PodMetricsSource}) is exempt and may change in any release.
 */
package dev.berth.spi;
