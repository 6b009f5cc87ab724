package dev.berth.hcs.fake;

import dev.berth.hcs.bind.HResults;
import dev.berth.hcs.bind.Hcn;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** HNS namespaces and endpoints in memory: ids to settings, handles that must be closed. */
public final class FakeHcn implements Hcn {
    private final Map<String, String> namespaces = new ConcurrentHashMap<>();
    private final Map<String, String> endpoints = new ConcurrentHashMap<>();
    private final Set<Long> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong handles = new AtomicLong(0x9000);

    public Map<String, String> namespaces() {
        return Map.copyOf(namespaces);
    }

    public int openHandles() {
        return open.size();
    }

    private long handle() {
        long h = handles.incrementAndGet();
        open.add(h);
        return h;
    }

    @Override
    public Result createNamespace(String id, String settings) {
        if (namespaces.putIfAbsent(id, settings) != null) {
            return new Result(HResults.HRESULT_ALREADY_EXISTS, 0, "{\"Error\":\"exists\"}");
        }
        return new Result(HResults.S_OK, handle(), null);
    }

    @Override
    public Result openNamespace(String id) {
        return namespaces.containsKey(id) ? new Result(HResults.S_OK, handle(), null)
                : new Result(HResults.HRESULT_NOT_FOUND, 0, "{\"Error\":\"not found\"}");
    }

    @Override
    public Result modifyNamespace(long namespace, String settings) {
        return new Result(open.contains(namespace) ? HResults.S_OK : HResults.E_HANDLE, 0, null);
    }

    @Override
    public Result deleteNamespace(String id) {
        return namespaces.remove(id) != null ? new Result(HResults.S_OK, 0, null)
                : new Result(HResults.HRESULT_NOT_FOUND, 0, "{\"Error\":\"not found\"}");
    }

    @Override
    public int closeNamespace(long namespace) {
        return open.remove(namespace) ? HResults.S_OK : HResults.E_HANDLE;
    }

    @Override
    public Result createEndpoint(long network, String id, String settings) {
        if (endpoints.putIfAbsent(id, settings) != null) {
            return new Result(HResults.HRESULT_ALREADY_EXISTS, 0, null);
        }
        return new Result(HResults.S_OK, handle(), null);
    }

    @Override
    public Result openEndpoint(String id) {
        return endpoints.containsKey(id) ? new Result(HResults.S_OK, handle(), null)
                : new Result(HResults.HRESULT_NOT_FOUND, 0, null);
    }

    @Override
    public Result modifyEndpoint(long endpoint, String settings) {
        return new Result(open.contains(endpoint) ? HResults.S_OK : HResults.E_HANDLE, 0, null);
    }

    @Override
    public Result deleteEndpoint(String id) {
        return new Result(endpoints.remove(id) != null ? HResults.S_OK : HResults.HRESULT_NOT_FOUND, 0, null);
    }

    @Override
    public int closeEndpoint(long endpoint) {
        return open.remove(endpoint) ? HResults.S_OK : HResults.E_HANDLE;
    }
}
