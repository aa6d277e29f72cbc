namespace VirtTools.Pci;

/// <summary>
/// Read-only evidence for pci_intx_mask_supported(). The kernel decides by toggling DisINTx and reading it back;
/// a query must not write config space, so it weighs what can be seen and says when it cannot tell.
/// </summary>
internal static class IntxMasking
{
    public static (bool? Supported, string Evidence) Judge(string? vendorId, string? deviceId, PciConfigSpace? config)
    {
        if (IntxMaskingQuirks.IsBroken(vendorId, deviceId))
            return (false, "the kernel marks this device broken_intx_masking (drivers/pci/quirks.c)");
        if (config is null)
            return (null, "config space is unreadable");
        if (config.IsPciExpress == true)
            return (true, "PCI Express function: the INTx Disable bit is mandatory");
        if (config.IntxDisabled == true)
            return (true, "DisINTx is set now, so the bit is implemented");
        if (config.InterruptStatus == true)
            return (true, "the PCI 2.3 Interrupt Status bit is live");
        return (null, "conventional PCI function: only the kernel's write test (toggling DisINTx) can tell");
    }
}
