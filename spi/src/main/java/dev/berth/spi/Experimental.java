package dev.berth.spi;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks SPI surface that may still change, or go, in any SPI release: it is left out of the recorded public API
 * ({@code spi/api/berth-spi.api}) and so of the compatibility check. On a type it covers all its members and
 * nested types. A plugin that uses it may need a rebuild for the next SPI release. Its Javadoc says what is
 * missing before it can be frozen.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.FIELD, ElementType.RECORD_COMPONENT})
public @interface Experimental {
    /** When the surface is expected to become stable, as {@code yyyy-MM-dd}. */
    String eta();
}
