package __PACKAGE__;

import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendException;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.RuntimeBackendFactory;
import java.util.Map;
import java.util.Set;
import org.pf4j.Extension;

/**
 * Backend type {@code __PLUGIN_ID__}. PF4J finds this class through {@code META-INF/extensions.idx}, which the
 * compiler writes for the {@code @Extension} annotation. Operators use it as
 * <pre>
 * [runtimes.NAME]
 * type = "__PLUGIN_ID__"
 * </pre>
 */
@Extension
public final class __CLASS__BackendFactory implements RuntimeBackendFactory {
    /** The option keys a handler of this type accepts; anything else is refused by name. */
    static final Set<String> OPTIONS = Set.of();

    @Override
    public String type() {
        return "__PLUGIN_ID__";
    }

    @Override
    public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
        for (String key : options.keySet()) {
            if (!OPTIONS.contains(key)) {
                throw BackendException.invalid("handler " + handlerName + ": unknown option \"" + key + "\"");
            }
        }
        return new __CLASS__Backend(context);
    }
}
