namespace VirtTools.Pci;

/// <summary>
/// Functions no VM can have: host bridges (class 06 00), ISA/LPC bridges (06 01) and PCI-to-PCI or CardBus bridges
/// (header type 1 or 2). Set-PciPassthrough refuses them even with -Force; Test-PciPassthrough calls them Blocked.
/// </summary>
public static class PciBridgeKind
{
    /// <summary>What kind of bridge a function with this 24-bit class code is; null for an endpoint.</summary>
    public static string? Of(int? classCode, bool isBridge) => (classCode >> 8) switch
    {
        0x0600 => "a host bridge",
        0x0601 => "an ISA bridge (the LPC controller: firmware, keyboard controller, TPM, clocks)",
        _ when isBridge => "a PCI bridge",
        _ => null,
    };
}
