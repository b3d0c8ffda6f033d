package dev.finadvisor.feature.testing;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;

/**
 * A real Flink MiniCluster (JobManager, TaskManager, REST endpoint on a random loopback port) that a
 * test class starts once and submits to as a remote cluster, the way {@code --flink-master} does.
 */
public final class SharedMiniCluster implements AutoCloseable {
    private final MiniCluster cluster;
    private final String master;

    public SharedMiniCluster() throws Exception {
        Configuration config = new Configuration();
        config.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        config.set(RestOptions.BIND_PORT, "0");
        cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(config).setNumTaskManagers(1).setNumSlotsPerTaskManager(2).withRandomPorts().build());
        cluster.start();
        var rest = cluster.getRestAddress().get();
        master = "127.0.0.1:" + rest.getPort();
    }

    /** {@code host:port} of the cluster's REST endpoint. */
    public String master() {
        return master;
    }

    @Override
    public void close() throws Exception {
        cluster.close();
    }
}
