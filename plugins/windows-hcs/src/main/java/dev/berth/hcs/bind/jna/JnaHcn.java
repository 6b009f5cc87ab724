package dev.berth.hcs.bind.jna;

import static dev.berth.hcs.bind.jna.Jna.guid;
import static dev.berth.hcs.bind.jna.Jna.handle;
import static dev.berth.hcs.bind.jna.Jna.takeString;
import static dev.berth.hcs.bind.jna.Jna.value;
import static dev.berth.hcs.bind.jna.Jna.w;

import com.sun.jna.platform.win32.WinNT.HANDLEByReference;
import com.sun.jna.ptr.PointerByReference;
import dev.berth.hcs.bind.Hcn;

/** {@link Hcn} over computenetwork.dll. */
final class JnaHcn implements Hcn {
    private final ComputeNetwork cn;

    JnaHcn(ComputeNetwork cn) {
        this.cn = cn;
    }

    @Override
    public Result createNamespace(String id, String settings) {
        HANDLEByReference out = new HANDLEByReference();
        PointerByReference err = new PointerByReference();
        int hr = cn.HcnCreateNamespace(guid(id), w(settings), out, err);
        return new Result(hr, value(out.getValue()), takeString(err));
    }

    @Override
    public Result openNamespace(String id) {
        HANDLEByReference out = new HANDLEByReference();
        PointerByReference err = new PointerByReference();
        int hr = cn.HcnOpenNamespace(guid(id), out, err);
        return new Result(hr, value(out.getValue()), takeString(err));
    }

    @Override
    public Result modifyNamespace(long namespace, String settings) {
        PointerByReference err = new PointerByReference();
        int hr = cn.HcnModifyNamespace(handle(namespace), w(settings), err);
        return new Result(hr, 0, takeString(err));
    }

    @Override
    public Result deleteNamespace(String id) {
        PointerByReference err = new PointerByReference();
        int hr = cn.HcnDeleteNamespace(guid(id), err);
        return new Result(hr, 0, takeString(err));
    }

    @Override
    public int closeNamespace(long namespace) {
        return cn.HcnCloseNamespace(handle(namespace));
    }

    @Override
    public Result createEndpoint(long network, String id, String settings) {
        HANDLEByReference out = new HANDLEByReference();
        PointerByReference err = new PointerByReference();
        int hr = cn.HcnCreateEndpoint(handle(network), guid(id), w(settings), out, err);
        return new Result(hr, value(out.getValue()), takeString(err));
    }

    @Override
    public Result openEndpoint(String id) {
        HANDLEByReference out = new HANDLEByReference();
        PointerByReference err = new PointerByReference();
        int hr = cn.HcnOpenEndpoint(guid(id), out, err);
        return new Result(hr, value(out.getValue()), takeString(err));
    }

    @Override
    public Result modifyEndpoint(long endpoint, String settings) {
        PointerByReference err = new PointerByReference();
        int hr = cn.HcnModifyEndpoint(handle(endpoint), w(settings), err);
        return new Result(hr, 0, takeString(err));
    }

    @Override
    public Result deleteEndpoint(String id) {
        PointerByReference err = new PointerByReference();
        int hr = cn.HcnDeleteEndpoint(guid(id), err);
        return new Result(hr, 0, takeString(err));
    }

    @Override
    public int closeEndpoint(long endpoint) {
        return cn.HcnCloseEndpoint(handle(endpoint));
    }
}
