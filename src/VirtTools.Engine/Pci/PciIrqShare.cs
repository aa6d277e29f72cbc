namespace VirtTools.Pci;

/// <summary>One legacy INTx IRQ: the kernel's handlers on it and the PCI functions wired to it.</summary>
public sealed class PciIrqShare
{
    public required int Irq { get; init; }

    /// <summary>
    /// The handlers the kernel has on the line, by name ("ehci_hcd:usb3", "eth0"); empty when none. When the tree
    /// carries no IRQ files, the drivers of the functions that use the line (see HandlerSource).
    /// </summary>
    public required string[] Handlers { get; init; }

    /// <summary>The file the handlers were read from, or "inferred from drivers" when the tree has none.</summary>
    public required string HandlerSource { get; init; }

    /// <summary>Every function wired to the line (so the object pipes into Get-PciDevice and Set-PciPassthrough).</summary>
    public required PciAddress[] Address { get; init; }

    public required PciDevice[] Devices { get; init; }

    /// <summary>Functions whose driver uses the line now: bound, enabled, no MSI/MSI-X.</summary>
    public required PciAddress[] Users { get; init; }

    /// <summary>Functions wired to the line that use MSI/MSI-X instead, so do not use it.</summary>
    public required PciAddress[] MsiFunctions { get; init; }

    /// <summary>
    /// More than one handler is on the line, or a function that would use INTx after a bind (unbound, or on vfio-pci
    /// without MSI) sits on a line another function's handler holds.
    /// </summary>
    public required bool Shared { get; init; }

    /// <summary>Some function here cannot be passed through with INTx while the line is held (see BlockedAddress).</summary>
    public bool Blocks => BlockedAddress.Length > 0;

    /// <summary>
    /// Functions vfio-pci could not give an INTx interrupt: they cannot mask INTx (no PCI 2.3 DisINTx), so vfio-pci
    /// needs the line to itself, and another function's handler holds it.
    /// </summary>
    public required PciAddress[] BlockedAddress { get; init; }

    /// <summary>What the line's state rests on, function by function, with the evidence read.</summary>
    public required string Reason { get; init; }

    public required string Root { get; init; }

    public override string ToString() => Irq.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
