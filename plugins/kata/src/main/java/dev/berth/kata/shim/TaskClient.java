package dev.berth.kata.shim;

import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import dev.berth.kata.proto.task.ConnectRequest;
import dev.berth.kata.proto.task.ConnectResponse;
import dev.berth.kata.proto.task.CreateTaskRequest;
import dev.berth.kata.proto.task.CreateTaskResponse;
import dev.berth.kata.proto.task.DeleteRequest;
import dev.berth.kata.proto.task.DeleteResponse;
import dev.berth.kata.proto.task.ExecProcessRequest;
import dev.berth.kata.proto.task.KillRequest;
import dev.berth.kata.proto.task.ShutdownRequest;
import dev.berth.kata.proto.task.StartRequest;
import dev.berth.kata.proto.task.StartResponse;
import dev.berth.kata.proto.task.StateRequest;
import dev.berth.kata.proto.task.StateResponse;
import dev.berth.kata.proto.task.StatsRequest;
import dev.berth.kata.proto.task.StatsResponse;
import dev.berth.kata.proto.task.UpdateTaskRequest;
import dev.berth.kata.proto.task.WaitRequest;
import dev.berth.kata.proto.task.WaitResponse;
import dev.berth.kata.ttrpc.TtrpcClient;
import dev.berth.kata.ttrpc.TtrpcException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** Typed calls of the shim v2 Task service ({@code containerd.task.v2.Task}) on one ttrpc connection. */
public final class TaskClient implements AutoCloseable {
    public static final String SERVICE = "containerd.task.v2.Task";
    public static final String NAMESPACE_KEY = "containerd-namespace-ttrpc";

    private final TtrpcClient ttrpc;

    private TaskClient(TtrpcClient ttrpc) {
        this.ttrpc = ttrpc;
    }

    public static TaskClient connect(Path socket, String namespace) throws TtrpcException {
        return new TaskClient(TtrpcClient.connect(socket, Map.of(NAMESPACE_KEY, namespace)));
    }

    /** Connects; {@code broken} hears once when the shim closes the connection (it exited, say) or it fails. */
    public static TaskClient connect(Path socket, String namespace, java.util.function.Consumer<String> broken)
            throws TtrpcException {
        return new TaskClient(TtrpcClient.connect(socket, Map.of(NAMESPACE_KEY, namespace), broken));
    }

    public boolean isOpen() {
        return ttrpc.isOpen();
    }

    private <T extends Message> T call(String method, Message req, Parser<T> parser, Duration timeout)
            throws TtrpcException {
        return ttrpc.call(SERVICE, method, req, parser, timeout);
    }

    public ConnectResponse connect(String id, Duration t) throws TtrpcException {
        return call("Connect", ConnectRequest.newBuilder().setId(id).build(), ConnectResponse.parser(), t);
    }

    public CreateTaskResponse create(CreateTaskRequest req, Duration t) throws TtrpcException {
        return call("Create", req, CreateTaskResponse.parser(), t);
    }

    public StartResponse start(String id, String execId, Duration t) throws TtrpcException {
        return call("Start", StartRequest.newBuilder().setId(id).setExecId(execId).build(), StartResponse.parser(), t);
    }

    public StateResponse state(String id, String execId, Duration t) throws TtrpcException {
        return call("State", StateRequest.newBuilder().setId(id).setExecId(execId).build(), StateResponse.parser(), t);
    }

    public void kill(String id, String execId, int signal, boolean all, Duration t) throws TtrpcException {
        call("Kill", KillRequest.newBuilder().setId(id).setExecId(execId).setSignal(signal).setAll(all).build(),
                Empty.parser(), t);
    }

    public WaitResponse await(String id, String execId, Duration t) throws TtrpcException {
        return call("Wait", WaitRequest.newBuilder().setId(id).setExecId(execId).build(), WaitResponse.parser(), t);
    }

    public DeleteResponse delete(String id, String execId, Duration t) throws TtrpcException {
        return call("Delete", DeleteRequest.newBuilder().setId(id).setExecId(execId).build(),
                DeleteResponse.parser(), t);
    }

    public void exec(ExecProcessRequest req, Duration t) throws TtrpcException {
        call("Exec", req, Empty.parser(), t);
    }

    public void resizePty(String id, String execId, int width, int height, Duration t) throws TtrpcException {
        call("ResizePty", dev.berth.kata.proto.task.ResizePtyRequest.newBuilder().setId(id).setExecId(execId)
                .setWidth(width).setHeight(height).build(), Empty.parser(), t);
    }

    public void closeStdin(String id, String execId, Duration t) throws TtrpcException {
        call("CloseIO", dev.berth.kata.proto.task.CloseIORequest.newBuilder().setId(id).setExecId(execId)
                .setStdin(true).build(), Empty.parser(), t);
    }

    public StatsResponse stats(String id, Duration t) throws TtrpcException {
        return call("Stats", StatsRequest.newBuilder().setId(id).build(), StatsResponse.parser(), t);
    }

    public void update(UpdateTaskRequest req, Duration t) throws TtrpcException {
        call("Update", req, Empty.parser(), t);
    }

    public void shutdown(String id, Duration t) throws TtrpcException {
        call("Shutdown", ShutdownRequest.newBuilder().setId(id).build(), Empty.parser(), t);
    }

    @Override
    public void close() {
        ttrpc.close();
    }
}
