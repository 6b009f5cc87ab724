package dev.berth.hcs.bind;

/**
 * The Host Networking Service's namespace and endpoint API (computenetwork.dll), one method per C function.
 * Every function takes a GUID (as a string, {@code 8-4-4-4-12}), returns an {@code HRESULT} and may return an error
 * record; handles are pointer values. A pod's network namespace is an HNS namespace; CNI plugins for Windows add
 * endpoints to it, and every compute system of the pod names it in {@code Container.Networking.Namespace}.
 */
public interface Hcn {

    /** The call's {@code HRESULT}, the out handle (0 when none) and the error record (may be null). */
    record Result(int hresult, long handle, String errorRecord) {}

    /** {@code HRESULT HcnCreateNamespace(REFGUID id, PCWSTR settings, PHCN_NAMESPACE, PWSTR* errorRecord)}. */
    Result createNamespace(String id, String settings);

    /** {@code HRESULT HcnOpenNamespace(REFGUID id, PHCN_NAMESPACE, PWSTR* errorRecord)}. */
    Result openNamespace(String id);

    /** {@code HRESULT HcnModifyNamespace(HCN_NAMESPACE, PCWSTR settings, PWSTR* errorRecord)}. */
    Result modifyNamespace(long namespace, String settings);

    /** {@code HRESULT HcnDeleteNamespace(REFGUID id, PWSTR* errorRecord)}. */
    Result deleteNamespace(String id);

    /** {@code HRESULT HcnCloseNamespace(HCN_NAMESPACE)}. */
    int closeNamespace(long namespace);

    /**
     * {@code HRESULT HcnCreateEndpoint(HCN_NETWORK, REFGUID id, PCWSTR settings, PHCN_ENDPOINT,
     * PWSTR* errorRecord)}.
     */
    Result createEndpoint(long network, String id, String settings);

    /** {@code HRESULT HcnOpenEndpoint(REFGUID id, PHCN_ENDPOINT, PWSTR* errorRecord)}. */
    Result openEndpoint(String id);

    /** {@code HRESULT HcnModifyEndpoint(HCN_ENDPOINT, PCWSTR settings, PWSTR* errorRecord)}. */
    Result modifyEndpoint(long endpoint, String settings);

    /** {@code HRESULT HcnDeleteEndpoint(REFGUID id, PWSTR* errorRecord)}. */
    Result deleteEndpoint(String id);

    /** {@code HRESULT HcnCloseEndpoint(HCN_ENDPOINT)}. */
    int closeEndpoint(long endpoint);
}
