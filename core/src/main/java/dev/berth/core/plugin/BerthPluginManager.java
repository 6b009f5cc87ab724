package dev.berth.core.plugin;

import dev.berth.spi.SpiVersion;
import java.nio.file.Path;
import org.pf4j.CompoundPluginLoader;
import org.pf4j.DefaultPluginLoader;
import org.pf4j.DefaultPluginManager;
import org.pf4j.DevelopmentPluginLoader;
import org.pf4j.JarPluginLoader;
import org.pf4j.PluginClassLoader;
import org.pf4j.PluginDescriptor;
import org.pf4j.PluginLoader;
import org.pf4j.PluginManager;

/**
 * PF4J's manager with berth's class-loading rule: the SPI always comes from core, whatever a plugin bundles.
 * Everything else a plugin loads comes from the plugin first (its own libraries), then from core.
 * The system version is the SPI version, so a plugin's {@code Plugin-Requires} is actually checked.
 */
public final class BerthPluginManager extends DefaultPluginManager {
    /** Packages a plugin must never load its own copy of. PF4J itself ({@code org.pf4j}) is always parent-first. */
    static final String SPI_PACKAGE = "dev.berth.spi.";

    public BerthPluginManager(Path pluginsDir) {
        super(pluginsDir);
        setSystemVersion(SpiVersion.CURRENT);
    }

    @Override
    protected PluginLoader createPluginLoader() {
        return new CompoundPluginLoader()
                .add(new DevelopmentPluginLoader(this) {
                    @Override
                    protected PluginClassLoader createPluginClassLoader(Path pluginPath, PluginDescriptor d) {
                        return new SpiFirstClassLoader(pluginManager, d, getClass().getClassLoader());
                    }
                }, this::isDevelopment)
                .add(new JarPluginLoader(this) {
                    @Override
                    protected PluginClassLoader createPluginClassLoader(Path pluginPath, PluginDescriptor d) {
                        return new SpiFirstClassLoader(pluginManager, d, BerthPluginManager.class.getClassLoader());
                    }
                }, this::isNotDevelopment)
                .add(new DefaultPluginLoader(this) {
                    @Override
                    protected PluginClassLoader createPluginClassLoader(Path pluginPath, PluginDescriptor d) {
                        return new SpiFirstClassLoader(pluginManager, d, BerthPluginManager.class.getClassLoader());
                    }
                }, this::isNotDevelopment);
    }

    /** A plugin class loader that delegates the SPI packages to core before looking in the plugin. */
    static final class SpiFirstClassLoader extends PluginClassLoader {
        SpiFirstClassLoader(PluginManager manager, PluginDescriptor descriptor, ClassLoader parent) {
            super(manager, descriptor, parent);
        }

        @Override
        protected boolean shouldDelegateToParent(String className) {
            return className.startsWith(SPI_PACKAGE) || super.shouldDelegateToParent(className);
        }
    }
}
