package dev.berth.core.cri.transport.windows;

import com.sun.jna.WString;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import com.sun.jna.win32.StdCallLibrary;

/** The advapi32.dll call that turns berth's SDDL into a security descriptor; loaded only on Windows. */
public interface Advapi32Sddl extends StdCallLibrary {
    int SDDL_REVISION_1 = 1;

    /**
     * BOOL ConvertStringSecurityDescriptorToSecurityDescriptorW(LPCWSTR, DWORD, PSECURITY_DESCRIPTOR*, PULONG).
     * The descriptor is allocated with LocalAlloc: free it with {@link Kernel32Pipes#LocalFree}.
     */
    boolean ConvertStringSecurityDescriptorToSecurityDescriptorW(WString stringSecurityDescriptor,
                                                                 int stringSdRevision,
                                                                 PointerByReference securityDescriptor,
                                                                 IntByReference securityDescriptorSize);
}
