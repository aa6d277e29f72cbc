namespace VirtTools.UsbIp.Vhci;

/// <summary>Where a kernel puts the vhci_hcd control files.</summary>
public enum VhciLayout
{
    /// <summary>Mainline: every control on vhci_hcd.0 (status, status.1 … status.N-1, one attach, one detach).</summary>
    Mainline,

    /// <summary>QVD-patched kernels: each vhci_hcd.N has its own status, attach, detach and nports.</summary>
    PerController,
}
